import datetime as dt

import pytest

from publisher.yamlsource import YamlSyntaxError, parse_yaml


def test_yaml_1_2_scalars_officers_expect() -> None:
    document = parse_yaml("a: no\nb: 08:30\nc: true\nd: 2026-12-01\ne: off\n")
    assert document.data == {
        "a": "no",
        "b": "08:30",
        "c": True,
        "d": dt.date(2026, 12, 1),
        "e": "off",
    }


def test_lines_are_file_lines_for_keys_and_list_entries() -> None:
    document = parse_yaml("title: x\ntags:\n  - a\n  - b\nyoutube:\n  video_id: y\n", first_line=2)
    assert document.line_of(("title",)) == 2
    assert document.line_of(("tags", 1)) == 5
    assert document.line_of(("youtube", "video_id")) == 7
    assert document.line_of(("youtube", "missing")) == 6  # nearest ancestor


def test_duplicate_keys_are_reported_not_silently_merged() -> None:
    document = parse_yaml("title: a\ntags: []\ntitle: b\n")
    assert document.duplicate_keys == [("title", 3)]


@pytest.mark.parametrize(
    ("text", "line"),
    [("title: [a\nx: 1\n", 3), ("title: x\n  bad: y\n", 3), ("a: 'open\n", 2)],
)
def test_syntax_errors_name_the_file_line(text: str, line: int) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(text, first_line=2)
    assert caught.value.line == line
    assert caught.value.message.startswith("invalid YAML:")
