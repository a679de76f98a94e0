"""Rendering: one parsed item into each platform's text, within each platform's limits."""
