"""A small live workspace: three sample items, five channels on the fakes, a 3-day calendar."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import REPO_ROOT
from tests.fakes.facebook import PAGE_ID
from tests.fakes.facebook import TOKEN as FACEBOOK_TOKEN
from tests.fakes.zalo import APP_ID, APP_SECRET, FIRST_REFRESH_TOKEN

from .platforms import TELEGRAM_TOKEN, YOUTUBE_SECRETS, Platforms

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_DAY = dt.date(2026, 12, 1)
LAST_DAY = dt.date(2026, 12, 3)
ITEMS = (  # a folder article with three photos, a video to upload, an infographic
    "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan",
    "nuoc-rut-2026/video/huong-dan-cai-dat-vssid",
    "nuoc-rut-2026/infographic/ket-qua-10-thang",
)
DAILY_CAPS = {"portal": 2, "facebook": 1, "zalo": 1, "youtube": 1, "telegram": 1}
SLOTS = {  # social posts late in the evening: a retry may cross midnight
    "portal": ["07:30", "14:00"],
    "facebook": ["21:00"],
    "zalo": ["22:00"],
    "youtube": ["18:00"],
    "telegram": ["23:00"],
}
CHANNELS = tuple(DAILY_CAPS)
SECRET_KEY = "cmVsaWFiaWxpdHktdGVzdHMtZmVybmV0LWtleS0zMmI="  # seals the tokens in the store


def calendar() -> str:
    lines = [
        "timezone: Asia/Ho_Chi_Minh",
        "campaigns:",
        "  - id: reliability",
        "    name: Reliability",
        f"    start: {FIRST_DAY.isoformat()}",
        f"    end: {LAST_DAY.isoformat()}",
        "    grace: 2h",
        "    channels:",
    ]
    for channel, times in SLOTS.items():
        lines += [
            f"      {channel}:",
            "        slots:",
            f"          - days: daily\n            times: [{', '.join(map(repr, times))}]",
            f"        daily_cap: {DAILY_CAPS[channel]}",
        ]
    return "\n".join(lines) + "\n"


def channel_files(fakes: Platforms, certificate: Path) -> dict[str, str]:
    youtube = fakes.youtube.base_url
    return {
        "portal": (
            "enabled: true\nmode: live\nbase_url: https://bhxh.example.gov.vn\n"
            f"site_name: Cổng thông tin BHXH tỉnh\nwordpress_url: {fakes.portal.base_url}\n"
        ),
        "facebook": f"enabled: true\nmode: live\npage_id: '{PAGE_ID}'\n"
        f"api_base: {fakes.facebook.base_url}\n",
        "zalo": (
            "enabled: true\nmode: live\nbroadcast: true\n"
            f"api_base: {fakes.zalo.base_url}\noauth_base: {fakes.zalo.base_url}\n"
        ),
        "youtube": (
            f"enabled: true\nmode: live\napi_base: {youtube}\ntoken_uri: {youtube}/token\n"
            f"tls_ca_file: {certificate}\n"
        ),
        "telegram": "enabled: true\nmode: live\nchat_id: '@bhxh_tinh_tin_tuc'\n"
        f"check_chat_id: '{fakes.telegram.check.id}'\napi_base: {fakes.telegram.base_url}\n",
    }


def credentials() -> dict[str, str]:
    """What the runner process finds in its environment (never in the workspace files)."""
    return {
        "WORDPRESS_USERNAME": "bientap",
        "WORDPRESS_APP_PASSWORD": "abcd EFGH 1234 ijkl MNOP 5678",
        "FACEBOOK_PAGE_TOKEN": FACEBOOK_TOKEN,
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_REFRESH_TOKEN": FIRST_REFRESH_TOKEN,
        "YOUTUBE_CLIENT_ID": YOUTUBE_SECRETS["client_id"],
        "YOUTUBE_CLIENT_SECRET": YOUTUBE_SECRETS["client_secret"],
        "YOUTUBE_REFRESH_TOKEN": YOUTUBE_SECRETS["refresh_token"],
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "PUBLISHER_SECRET_KEY": SECRET_KEY,
    }


def build(root: Path, fakes: Platforms, certificate: Path, template: Path | None = None) -> Path:
    """Write the workspace at `root`; `template` (an earlier one) lends its resized images."""
    for item in ITEMS:
        source = REPO_ROOT / "content" / item
        target = root / "content" / item
        if source.is_dir():
            shutil.copytree(source, target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        for path in source.parent.glob(f"{source.name}.*"):
            shutil.copy(path, target.parent / path.name)
    for channel, text in channel_files(fakes, certificate).items():
        (root / "channels").mkdir(exist_ok=True)
        (root / "channels" / f"{channel}.yaml").write_text(text, encoding="utf-8")
    (root / "schedules.yaml").write_text(calendar(), encoding="utf-8")
    media = Path(".publisher/cache/media")
    if template is not None and (template / media).is_dir():
        shutil.copytree(template / media, root / media)
    return root


def campaign_bounds() -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(FIRST_DAY, dt.time(0), ZONE)
    end = dt.datetime.combine(LAST_DAY + dt.timedelta(days=2), dt.time(0), ZONE)
    return start, end
