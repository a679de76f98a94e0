"""Output helpers shared by the commands: JSON documents and the human console.

Titles, file names, platform answers and addresses come from content and from outside: no
text is read as rich markup (a title with "[/]" once crashed `check`, "[link=…]" made a
hidden hyperlink), and every control, direction or invisible character is written out
(`printable`), so none can clear the screen, retitle the window or forge a line. Styles are
given as `style=`, never inside the text.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

from publisher.content.text import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def print_json(document: object) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def console() -> Console:
    return _console_class()(highlight=False, soft_wrap=True, markup=False, emoji=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """One line of text and (text, style) parts, every part made printable."""
    from rich.text import Text

    return Text.assemble(
        *(
            (printable(part[0], keep_lines=True), part[1])
            if isinstance(part, tuple)
            else printable(part, keep_lines=True)
            for part in parts
        )
    )


@cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class SafeConsole(Console):
        """A console that shows every string as the plain, printable text it is."""

        def render_str(self, text: str, *args: Any, **kwargs: Any) -> Text:
            return super().render_str(printable(text, keep_lines=True), *args, **kwargs)

    return SafeConsole
