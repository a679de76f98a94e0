"""Workspace settings: `channels/*.yaml` (and, later, `schedules.yaml`)."""
