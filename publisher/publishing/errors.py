"""One error model for every platform (DESIGN section 6).

Each client maps its platform's failures, in one place, to one of four kinds:

- `retryable`: provably not processed (connection refused, connect timeout, DNS failure,
  a rate limit, a documented "not processed" code); `retry_after` is the wait the
  platform asked for, in seconds, when it said one;
- `unknown`: the request may have reached the platform (a read timeout, a reset or a 5xx
  after sending); never resent blindly, settled by `find_existing` or by an operator;
- `auth`: the credentials were refused or expired (refresh once, else pause the channel);
- `permanent`: the platform rejected the post; its message is kept, it is never retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

FailureKind = Literal["retryable", "unknown", "auth", "permanent"]
REDACTED = "***"


class PublishError(Exception):
    """A classified failure of one platform call. The message never holds a secret."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        platform: str,
        http_status: int | None = None,
        platform_code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        self.platform = platform
        self.http_status = http_status
        self.platform_code = platform_code
        self.retry_after = retry_after

    @property
    def needs_reauth(self) -> bool:
        return self.kind == "auth"

    def redacted(self, secrets: Iterable[str]) -> PublishError:
        return PublishError(
            self.kind,
            redact(self.message, secrets),
            platform=self.platform,
            http_status=self.http_status,
            platform_code=self.platform_code,
            retry_after=self.retry_after,
        )

    def __str__(self) -> str:
        """As "platform: kind: message (HTTP status code)", leaving out what is not known."""
        details = [f"HTTP {self.http_status}"] if self.http_status is not None else []
        details += [str(self.platform_code)] if self.platform_code is not None else []
        suffix = f" ({' '.join(details)})" if details else ""
        return f"{self.platform}: {self.kind}: {self.message}{suffix}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value (and its URL-encoded form) replaced by ***."""
    from urllib.parse import quote

    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED).replace(quote(secret, safe=""), REDACTED)
    return text
