"""Channel names, in publishing order (the portal first: the others link to it).

Kept apart from the registry so the CLI can offer them without importing any adapter.
"""

CHANNEL_NAMES: tuple[str, ...] = ("portal", "facebook", "zalo", "youtube", "telegram")
