"""The explicit list of channel adapters, in publishing order."""

from __future__ import annotations

from publisher.adapters.base import Channel
from publisher.adapters.facebook import FacebookChannel
from publisher.adapters.names import CHANNEL_NAMES
from publisher.adapters.portal import PortalChannel
from publisher.adapters.telegram import TelegramChannel
from publisher.adapters.youtube import YouTubeChannel
from publisher.adapters.zalo import ZaloChannel

CHANNEL_TYPES: dict[str, type[Channel]] = {
    channel.name: channel
    for channel in (PortalChannel, FacebookChannel, ZaloChannel, YouTubeChannel, TelegramChannel)
}
if tuple(CHANNEL_TYPES) != CHANNEL_NAMES:
    raise RuntimeError("adapters/names.py and the registry list different channels")

__all__ = ["CHANNEL_NAMES", "CHANNEL_TYPES"]
