"""Fake platforms: local HTTP servers that enforce each platform's documented contract."""
