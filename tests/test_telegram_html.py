from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.content.markdown import parse_markdown
from publisher.render.document import Line, Run, blocks_from_tree, flatten
from publisher.render.telegram_html import (
    ALLOWED_TAGS,
    pack_messages,
    pack_within,
    visible_length,
)

WORDS = [
    "Bảo",
    "hiểm",
    "xã",
    "hội",
    "tự",
    "nguyện",
    "**đậm**",
    "*nghiêng*",
    "`mã`",
    "<b>",
    "&",
    "😀",
    "[liên kết](https://bhxh.example.gov.vn/a?b=1&c=2)",
    "Đồng",
    "y tế",
    "1900 9068",
]
paragraph = st.lists(st.sampled_from(WORDS), min_size=1, max_size=400).map(" ".join)
block = st.one_of(
    paragraph,
    paragraph.map(lambda p: f"## {p[:80]}"),
    st.lists(paragraph.map(lambda p: p[:200]), min_size=1, max_size=5).map(
        lambda items: "\n".join(f"- {i}" for i in items)
    ),
    paragraph.map(lambda p: f"> {p}"),
    st.just("| Đơn vị | Số tiền |\n|---|---|\n| Công ty A | 1.000.000 |"),
)
markdown_bodies = st.lists(block, min_size=1, max_size=8).map("\n\n".join)


class TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED_TAGS:
            self.bad.append(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()


@settings(max_examples=60, deadline=None)
@given(markdown_bodies, st.sampled_from([200, 1024, 4096]))
def test_messages_fit_and_use_only_telegram_tags(body: str, limit: int) -> None:
    lines = flatten(blocks_from_tree(parse_markdown(body).tree))
    messages = pack_messages(lines, lambda href: href, limit)
    assert messages
    for message in messages:
        assert visible_length(message) <= limit
        checker = TagChecker()
        checker.feed(message)
        checker.close()
        assert checker.bad == [] and checker.stack == []


def test_nothing_is_lost_when_splitting() -> None:
    body = "\n\n".join(f"Đoạn {i}: " + "lời " * 300 for i in range(5))
    lines = flatten(blocks_from_tree(parse_markdown(body).tree))
    messages = pack_messages(lines, lambda href: href, 4096)
    assert len(messages) == 2
    words = sum(m.count("lời") for m in messages)
    assert words == 1500


def test_headings_lists_and_links_become_telegram_html() -> None:
    body = "## Tiêu đề\n\n- Một\n- **Hai**\n\nXem [tại đây](https://a.vn/x?a=1&b=2) & <script>"
    lines = flatten(blocks_from_tree(parse_markdown(body).tree))
    (message,) = pack_messages(lines, lambda href: href, 4096)
    assert message == (
        "<b>Tiêu đề</b>\n\n• Một\n• <b>Hai</b>\n\n"
        'Xem <a href="https://a.vn/x?a=1&amp;b=2">tại đây</a> &amp; &lt;script&gt;'
    )


@settings(max_examples=60, deadline=None)
@given(markdown_bodies, st.sampled_from([200, 1024]), st.integers(min_value=1, max_value=4))
def test_cutting_to_a_number_of_messages_drops_lines_from_the_end(
    body: str, limit: int, most: int
) -> None:
    """What packing again after dropping each last line gave (the way it was done before)."""
    resolve = lambda href: href  # noqa: E731
    lines = flatten(blocks_from_tree(parse_markdown(body).tree))
    head, tail = [Line("heading", (Run("Tiêu đề"),))], [Line("text", (Run("#BHXH"),))]
    expected = pack_messages([*head, *lines, *tail], resolve, limit)
    needed, kept = len(expected), list(lines)
    while len(expected) > most and kept:
        kept = kept[:-1]
        expected = pack_messages([*head, *kept, *tail], resolve, limit)
    assert pack_within(head, lines, tail, resolve, limit, most) == (expected, needed)
