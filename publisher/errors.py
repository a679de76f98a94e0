"""User-facing errors: the CLI prints their message, never a traceback."""


class PublisherError(Exception):
    """An error whose message is written for the person running the tool."""

    exit_code = 1


class WorkspaceError(PublisherError):
    """The folder is not a usable workspace (a configuration error, exit code 2)."""

    exit_code = 2


class StoreError(PublisherError):
    """The state store cannot be used as it is; nothing is published until it is fixed."""

    exit_code = 2


class StoreLocked(StoreError):
    """Another program holds the state store's lock: waiting may be enough."""
