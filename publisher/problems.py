"""Problems found while loading a workspace: every one is collected, none stops the load."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


class LocatedError(Exception):
    """An input error with the 1-based line of the file it was found on, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __reduce__(self) -> tuple[type[LocatedError], tuple[str, int | None]]:
        return (type(self), (self.message, self.line))  # pickled with its line


@dataclass(frozen=True)
class Problem:
    """One error or warning, located by workspace-relative file and, where known, line."""

    file: str
    line: int | None
    severity: Severity
    message: str
    channel: str | None = None

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        channel = f"[{self.channel}] " if self.channel else ""
        return f"{self.location()}: {self.severity}: {channel}{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "channel": self.channel,
            "message": self.message,
        }


@dataclass
class Problems:
    """Collects problems in the order they were found."""

    items: list[Problem] = field(default_factory=list)

    def error(
        self, file: str, message: str, line: int | None = None, channel: str | None = None
    ) -> None:
        self.items.append(Problem(file, line, "error", message, channel))

    def warning(
        self, file: str, message: str, line: int | None = None, channel: str | None = None
    ) -> None:
        self.items.append(Problem(file, line, "warning", message, channel))

    def extend(self, problems: Problems) -> None:
        self.items.extend(problems.items)

    @property
    def errors(self) -> list[Problem]:
        return self._sorted("error")

    @property
    def warnings(self) -> list[Problem]:
        return self._sorted("warning")

    def _sorted(self, severity: Severity) -> list[Problem]:
        chosen = (p for p in self.items if p.severity == severity)
        return sorted(chosen, key=lambda p: (p.file, p.line or 0, p.channel or "", p.message))

    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.items)

    def __len__(self) -> int:
        return len(self.items)
