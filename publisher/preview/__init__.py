"""The local preview: every post on every channel, as the platforms will show it."""
