"""The text a reader sees in a piece of HTML: tags dropped, entities decoded."""

from __future__ import annotations

from html.parser import HTMLParser


def text_of_html(raw: str) -> str:
    parser = _TextOnly()
    parser.feed(raw)
    parser.close()
    return "".join(parser.parts)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
