"""Tokens sealed at rest with a key from the environment (PUBLISHER_SECRET_KEY).

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) seals each token before it is
written; the key never lives in the workspace's state. Without a key, tokens are stored
as they are and `publisher check` warns about it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from publisher.errors import WorkspaceError
from publisher.workspace import SECRET_KEY_VARIABLE

_SEALED = "fernet:"


class SealError(Exception):
    """A stored token cannot be opened with this key (the key changed or the row was edited)."""


class Sealer:
    def __init__(self, key: str | None) -> None:
        try:
            self._fernet = Fernet(key.encode()) if key else None
        except (ValueError, TypeError):
            raise WorkspaceError(
                f"{SECRET_KEY_VARIABLE} is not a key: it must be 44 characters of URL-safe "
                f"base64 (32 bytes), as in: {SECRET_KEY_VARIABLE}={new_key()}; set it back to "
                "the key the tokens were sealed with, if you had one"
            ) from None

    @property
    def active(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str) -> str:
        if self._fernet is None:
            return value
        return _SEALED + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(_SEALED):
            return stored
        if self._fernet is None:
            raise SealError(f"a stored token is sealed: set {SECRET_KEY_VARIABLE} to open it")
        try:
            return self._fernet.decrypt(stored[len(_SEALED) :].encode()).decode()
        except InvalidToken:
            raise SealError(
                f"a stored token cannot be opened with this {SECRET_KEY_VARIABLE}: it was "
                "sealed with another key. Set the key it was sealed with, or connect the "
                "channel anew with 'publisher auth <channel> --reset' (it forgets the "
                "stored tokens)"
            ) from None


def new_key() -> str:
    return Fernet.generate_key().decode()
