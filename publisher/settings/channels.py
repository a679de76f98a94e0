"""Loading `channels/<name>.yaml`: each channel's settings, validated by its own schema."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from publisher.adapters.base import ChannelSettings, Mode
from publisher.adapters.registry import CHANNEL_NAMES, CHANNEL_TYPES
from publisher.problems import Problems
from publisher.settings.yamlfile import read_yaml_file
from publisher.validation import validate_document
from publisher.workspace import SECRET_KEY_VARIABLE, Workspace

SETTINGS_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ChannelConfig:
    """A channel's validated settings and the mode it will publish in."""

    name: str
    settings: ChannelSettings
    mode: Mode
    file: str | None

    @property
    def enabled(self) -> bool:
        return self.settings.enabled


def load_channels(workspace: Workspace, problems: Problems) -> dict[str, ChannelConfig]:
    """Every known channel, configured from its file; a channel without a file is disabled."""
    files = _settings_files(workspace, problems)
    configs: dict[str, ChannelConfig] = {}
    for name in CHANNEL_NAMES:
        model = CHANNEL_TYPES[name].settings_model
        rel = files.get(name)
        if rel is None:
            configs[name] = ChannelConfig(name, model(enabled=False), "outbox", None)
            continue
        document = read_yaml_file(workspace.root / rel, rel, problems, name)
        settings = document and validate_document(model, document, rel, problems, name)
        if settings is None:
            settings = model(enabled=False)
        mode = _resolve_mode(settings, workspace.env, rel, problems, name)
        configs[name] = ChannelConfig(name, settings, mode, rel)
    if not any(config.enabled for config in configs.values()):
        problems.warning("channels", "no channel is enabled: nothing will be published")
    live = [c.name for c in configs.values() if c.enabled and c.mode == "live"]
    if live and not workspace.env.get(SECRET_KEY_VARIABLE):
        problems.warning(
            ".env",
            f"{SECRET_KEY_VARIABLE} is not set: tokens the platforms hand out ({', '.join(live)}) "
            "would be stored unencrypted; 'publisher auth' prints a new key to put in .env",
        )
    return configs


def _settings_files(workspace: Workspace, problems: Problems) -> dict[str, str]:
    if not workspace.channels_dir.is_dir():
        problems.warning("channels", "the channels/ folder is missing: every channel is disabled")
        return {}
    files: dict[str, str] = {}
    for path in sorted(workspace.channels_dir.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in SETTINGS_SUFFIXES:
            continue
        rel = workspace.rel(path)
        if path.stem not in CHANNEL_TYPES:
            close = difflib.get_close_matches(path.stem, CHANNEL_NAMES, n=1)
            hint = (
                f"did you mean '{close[0]}.yaml'?"
                if close
                else f"known: {', '.join(CHANNEL_NAMES)}"
            )
            problems.error(rel, f"unknown channel '{path.stem}' ({hint})")
        elif path.stem in files:
            problems.error(
                rel, f"channel '{path.stem}' is configured twice (also {files[path.stem]})"
            )
        else:
            files[path.stem] = rel
    return files


def _resolve_mode(
    settings: ChannelSettings, env: Mapping[str, str], rel: str, problems: Problems, name: str
) -> Mode:
    missing = settings.credentials.missing(env)
    unset = settings.live_requirements()
    if settings.mode == "live" and settings.enabled:
        if missing:
            problems.error(
                rel,
                f"live mode needs {', '.join(missing)}: set it in the environment or in .env",
                None,
                name,
            )
        for key in unset:
            problems.error(rel, f"live mode needs '{key}' in this file", None, name)
    mode = settings.mode or ("outbox" if missing or unset else "live")
    transport = settings.transport_problem() if mode == "live" and settings.enabled else None
    if transport is not None:
        severity, message = transport
        (problems.error if severity == "error" else problems.warning)(rel, message, None, name)
    return mode
