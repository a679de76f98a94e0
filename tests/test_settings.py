import datetime as dt

import pytest

from publisher.problems import Problems
from publisher.settings.channels import load_channels
from publisher.settings.schedules import load_schedules
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder


def channel_problems(builder: WorkspaceBuilder, env: dict[str, str] | None = None):
    problems = Problems()
    configs = load_channels(open_workspace(builder.root, env or {}), problems)
    return configs, [(p.file, p.line, p.severity, p.message) for p in problems.items]


def test_mode_defaults_to_outbox_without_credentials_and_live_with_them(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.write("channels/telegram.yaml", "chat_id: '@bhxh_tinh'\n")
    configs, problems = channel_problems(workspace)
    assert configs["telegram"].mode == "outbox" and not problems
    configs, _ = channel_problems(workspace, {"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert configs["telegram"].mode == "live"


def test_env_file_supplies_credentials(workspace: WorkspaceBuilder) -> None:
    workspace.write("channels/facebook.yaml", "page_id: '1234'\n")
    workspace.write(".env", "FACEBOOK_PAGE_TOKEN=from-dotenv\n")
    configs, _ = channel_problems(workspace)
    assert configs["facebook"].mode == "live"


def test_live_mode_without_credentials_or_ids_is_an_error(workspace: WorkspaceBuilder) -> None:
    workspace.write("channels/facebook.yaml", "mode: live\n")
    _, problems = channel_problems(workspace)
    assert (
        "channels/facebook.yaml",
        None,
        "error",
        "live mode needs FACEBOOK_PAGE_TOKEN: set it in the environment or in .env",
    ) in problems
    assert (
        "channels/facebook.yaml",
        None,
        "error",
        "live mode needs 'page_id' in this file",
    ) in problems


def test_unknown_channel_file_and_unknown_keys_have_lines(workspace: WorkspaceBuilder) -> None:
    workspace.write("channels/fb.yaml", "enabled: true\n")
    workspace.write("channels/zalo.yaml", "enabled: true\nauthr: x\ncredentials:\n  token: X\n")
    configs, problems = channel_problems(workspace)
    assert (
        "channels/fb.yaml",
        None,
        "error",
        "unknown channel 'fb' (known: portal, facebook, zalo, youtube, telegram)",
    ) in problems
    assert (
        "channels/zalo.yaml",
        2,
        "error",
        "unknown key 'authr' (did you mean 'author'?)",
    ) in problems
    assert any(
        f == "channels/zalo.yaml" and line == 4 and "credentials.token" in m
        for f, line, _, m in problems
    )
    assert configs["zalo"].enabled is False  # an invalid channel is not used


def test_channel_without_a_file_is_disabled(make_workspace) -> None:
    builder = make_workspace("bare")
    configs, problems = channel_problems(builder)
    assert not any(c.enabled for c in configs.values())
    assert (
        "channels",
        None,
        "warning",
        "the channels/ folder is missing: every channel is disabled",
    ) in problems


def schedule_problems(builder: WorkspaceBuilder, text: str):
    builder.write("schedules.yaml", text)
    problems = Problems()
    schedules = load_schedules(open_workspace(builder.root, {}), problems)
    return schedules, [(p.line, p.message) for p in problems.items]


def test_sample_calendar_shape_is_valid(workspace: WorkspaceBuilder) -> None:
    from .conftest import REPO_ROOT

    schedules, problems = schedule_problems(workspace, (REPO_ROOT / "schedules.yaml").read_text())
    assert problems == []
    campaign = schedules.campaigns[0]
    assert schedules.timezone == "Asia/Ho_Chi_Minh"
    assert campaign.grace == dt.timedelta(hours=2)
    assert campaign.channels["facebook"].slots[0].times == [dt.time(8), dt.time(19, 30)]
    assert campaign.channels["facebook"].slots[0].days == ["mon", "tue", "wed", "thu", "fri"]
    assert campaign.phases[0].sprint is True


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("timezone: Asia/Hanoi_City\n", 1, "unknown time zone"),
        (
            "campaigns:\n  - id: a\n    name: A\n    start: 2026-12-01\n    end: 2026-12-31\n"
            "    channels:\n      facebook:\n        slots:\n          - times: ['25:00']\n",
            9,
            "write a time as HH:MM",
        ),
        (
            "campaigns:\n  - id: a\n    name: A\n    start: 2026-12-01\n    end: 2026-12-31\n"
            "    channels:\n      facebook:\n        slots:\n          - cron: '0 8 * *'\n",
            9,
            "invalid cron expression",
        ),
        (
            "campaigns:\n  - id: a\n    name: A\n    start: 2026-12-01\n    end: 2026-12-31\n"
            "    channels:\n      fb:\n        slots:\n          - times: ['08:00']\n",
            7,
            "'campaigns[0].channels.fb'",
        ),
        (
            "campaigns:\n  - id: a\n    name: A\n    start: 2026-12-01\n    end: 2026-12-31\n"
            "    channels:\n      zalo:\n        slots:\n          - days: [monday, someday]\n"
            "            times: ['09:00']\n",
            9,
            "unknown day 'someday'",
        ),
        (
            "campaigns:\n  - id: a\n    name: A\n    start: 2026-12-31\n    end: 2026-12-01\n"
            "    channels:\n      zalo:\n        slots:\n          - times: ['09:00']\n",
            2,
            "ends before it starts",
        ),
        (
            "campaigns:\n  - id: a\n    name: A\n    start: 2026-12-01\n    end: 2026-12-31\n"
            "    grace: soon\n"
            "    channels:\n      zalo:\n        slots:\n          - times: ['09:00']\n",
            6,
            "write a duration",
        ),
    ],
)
def test_calendar_errors_are_located(
    workspace: WorkspaceBuilder, text: str, line: int, fragment: str
) -> None:
    _, problems = schedule_problems(workspace, text)
    assert any(found_line == line and fragment in message for found_line, message in problems), (
        problems
    )


def test_invalid_calendar_keeps_a_valid_time_zone(workspace: WorkspaceBuilder) -> None:
    schedules, problems = schedule_problems(workspace, "timezone: Asia/Tokyo\ncampaigns: 3\n")
    assert problems and schedules.timezone == "Asia/Tokyo"


def test_live_channels_without_a_sealing_key_are_warned_about(workspace: WorkspaceBuilder) -> None:
    workspace.write("channels/telegram.yaml", "chat_id: '@bhxh_tinh'\n")
    _, problems = channel_problems(workspace, {"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert any(f == ".env" and "PUBLISHER_SECRET_KEY is not set" in m for f, _, _, m in problems)
    env = {"TELEGRAM_BOT_TOKEN": "123:abc", "PUBLISHER_SECRET_KEY": "k"}
    _, problems = channel_problems(workspace, env)
    assert not any(f == ".env" for f, _, _, _ in problems)


def _laugh(level: int) -> str:
    """Level n: nine aliases of level n - 1 (nine to the ninth values in nine lines)."""
    this, previous = chr(98 + level), chr(97 + level)
    return f"{this}: &{this} [*{previous}" + f", *{previous}" * 8 + "]"


BILLION_LAUGHS = "\n".join(
    ["a: &a ['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol']"]
    + [_laugh(level) for level in range(8)]
)


@pytest.mark.parametrize("file", ["schedules.yaml", "channels/facebook.yaml"])
def test_a_billion_laughs_in_a_settings_file_is_refused_before_parsing(
    workspace: WorkspaceBuilder, file: str
) -> None:
    """It made `check` run past 120 s at 3-4 GB; `preview` and `run` reload these files."""
    workspace.write(file, "timezone: Asia/Ho_Chi_Minh\n" + BILLION_LAUGHS + "\n")
    problems = Problems()
    workspace_opened = open_workspace(workspace.root, {})
    load_channels(workspace_opened, problems)
    load_schedules(workspace_opened, problems)
    [refused] = [p for p in problems.errors if p.file == file]
    assert refused.line == 3 and "YAML aliases ('*a') are not allowed in" in refused.message


def test_a_number_of_two_hundred_thousand_digits_is_refused(workspace: WorkspaceBuilder) -> None:
    workspace.write(
        "schedules.yaml",
        "timezone: Asia/Ho_Chi_Minh\ncampaigns:\n  - id: t\n    name: T\n    start: 2026-12-01\n"
        "    end: 2026-12-02\n    channels:\n      portal:\n        slots:\n"
        "          - {days: daily, times: ['08:00']}\n        daily_cap: 1" + "0" * 200_000 + "\n",
    )
    problems = Problems()
    load_schedules(open_workspace(workspace.root, {}), problems)
    [refused] = problems.errors
    assert refused.line == 11 and "a number of 200,001 digits" in refused.message


@pytest.mark.parametrize(
    ("url", "severity"),
    [
        ("http://bhxh.example.gov.vn", "error"),
        ("http://10.0.0.5", "error"),
        ("http://localhost:8080", "warning"),
        ("http://127.0.0.1:8080", "warning"),
        ("https://bhxh.example.gov.vn", None),
    ],
)
def test_wordpress_credentials_never_travel_over_plain_http(
    workspace: WorkspaceBuilder, url: str, severity: str | None
) -> None:
    workspace.write("channels/portal.yaml", f"enabled: true\nwordpress_url: {url}\n")
    env = {"WORDPRESS_USERNAME": "bientap", "WORDPRESS_APP_PASSWORD": "abcd efgh"}
    _, problems = channel_problems(workspace, env)
    found = [(s, m) for file, _, s, m in problems if file == "channels/portal.yaml"]
    if severity is None:
        assert found == []
    else:
        [(seen, message)] = found
        assert seen == severity and "plain http" in message and url in message
