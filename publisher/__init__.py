"""publisher: publish a communication office's campaign to five channels on a calendar."""

__version__ = "0.1.0"
