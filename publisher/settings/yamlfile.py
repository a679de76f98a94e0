"""Reading a settings YAML file into a `YamlDocument`, reporting problems instead of raising."""

from __future__ import annotations

from pathlib import Path

from publisher.content.text import TextDecodeError, decode_text
from publisher.problems import Problems
from publisher.yamlsource import YamlDocument, YamlSyntaxError, check_structure, parse_yaml


def read_yaml_file(
    path: Path, rel: str, problems: Problems, channel: str | None = None
) -> YamlDocument | None:
    try:
        text = decode_text(path.read_bytes()).text
        check_structure(text, 1, rel)
        return parse_yaml(text)
    except (TextDecodeError, YamlSyntaxError) as exc:
        problems.error(rel, exc.message, exc.line, channel)
    except OSError as exc:
        problems.error(rel, f"cannot be read: {exc.strerror}", None, channel)
    return None
