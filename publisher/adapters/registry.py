"""The explicit list of channels, in publishing order (the portal first: others link to it)."""

from __future__ import annotations

from publisher.adapters.base import Channel
from publisher.adapters.facebook import FacebookChannel
from publisher.adapters.portal import PortalChannel
from publisher.adapters.telegram import TelegramChannel
from publisher.adapters.youtube import YouTubeChannel
from publisher.adapters.zalo import ZaloChannel

CHANNEL_TYPES: dict[str, type[Channel]] = {
    channel.name: channel
    for channel in (PortalChannel, FacebookChannel, ZaloChannel, YouTubeChannel, TelegramChannel)
}
CHANNEL_NAMES: tuple[str, ...] = tuple(CHANNEL_TYPES)
