"""Publishing one item on one channel: render, choose the client for the channel's mode,
run the calls with their steps persisted in the state store, keep the receipt."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from publisher.adapters.base import ChannelSettings, Post
from publisher.catalog import Catalog
from publisher.content.model import ContentItem
from publisher.publishing.executor import publish_post
from publisher.publishing.hosting import HostingClient, MediaHost, StaticMediaHost, hosts_media
from publisher.publishing.model import (
    FOUND_STEP,
    ClientEnv,
    LookupNotSupported,
    PlatformClient,
    Receipt,
)
from publisher.publishing.outbox import OutboxClient, outbox_folder, write_json
from publisher.publishing.static_site import StaticSiteClient
from publisher.render.service import Renderer
from publisher.store.database import Store

Settled = Literal["found", "not found", "nothing open"]


def delivery_key(item: ContentItem, channel: str) -> str:
    """One delivery per (item, channel): its steps are resumed, never repeated."""
    return f"{channel}:{item.id}"


def secrets_for(settings: ChannelSettings, env: Mapping[str, str]) -> dict[str, str]:
    """Credential values by credential name, from the environment or `.env`."""
    names = settings.credentials.model_dump()
    return {field: env[variable] for field, variable in names.items() if env.get(variable)}


class PublishService:
    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        renderer: Renderer | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        state_dir: Path | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.renderer = renderer or Renderer(catalog, store.deliveries.published_urls("portal"))
        self.sleep = sleep
        self.timeout = timeout
        self.state_dir = state_dir or catalog.workspace.state_dir

    def publish(self, item: ContentItem, channel: str) -> Receipt:
        post = self.renderer.render(item, channel, for_upload=True)
        config = self.catalog.channels[channel]
        platform = self._platform_client(channel, post)
        receipt = publish_post(
            post,
            self._hosting(platform, post),
            self.store.steps(delivery_key(item, channel)),
            mode=config.mode,
            secrets=self.secret_values(),
        )
        if isinstance(platform, OutboxClient):
            write_json(platform.folder / "receipt.json", receipt.to_json())
        return receipt

    def record_existing(self, item: ContentItem, channel: str) -> Settled:
        """Settle what the last attempt left open; record what the platform holds as done.

        Only a step whose request was noted and never answered may have gone out; with
        none, nothing needs looking up ("nothing open"). Otherwise the platform is asked
        (`find_existing`): when it holds the post, the step its answer stands for, and
        every earlier step still without an answer, are recorded, so the next `publish`
        runs only the steps after it (a Zalo broadcast, a YouTube thumbnail) and sends
        nothing twice ("found"); "not found" means it certainly does not. Raises
        LookupNotSupported where the platform cannot tell, or when a later step may have
        been sent and cannot be looked up; PublishError when the lookup itself fails.
        """
        post = self.renderer.render(item, channel)
        steps = self.store.steps(delivery_key(item, channel))
        if not any(steps.maybe_sent(call.step) for call in post.calls):
            return "nothing open"
        found = self.client(channel, post).find_existing(post, steps)
        if found is None:
            return "not found"
        found = dict(found)
        settled_step = found.pop(FOUND_STEP, post.calls[-1].step)
        settled_index = next(i for i, c in enumerate(post.calls) if c.step == settled_step)
        for call in post.calls[: settled_index + 1]:
            if steps.get(call.step) is None:
                steps.record(call.step, found if call.step == settled_step else {"settled": True})
        uncertain = [c.step for c in post.calls[settled_index + 1 :] if steps.maybe_sent(c.step)]
        if uncertain:
            raise LookupNotSupported(
                f"the post is on {channel}, but whether its {', '.join(uncertain)} step went "
                "out cannot be checked: look at the channel, then mark the delivery published "
                "or not published with 'publisher resolve'"
            )
        return "found"

    def client(self, channel: str, post: Post) -> PlatformClient:
        """The channel's client for `post` (its outbox folder in outbox mode); HOST calls
        go to the portal's media host."""
        return self._hosting(self._platform_client(channel, post), post)

    def _hosting(self, platform: PlatformClient, post: Post) -> PlatformClient:
        return HostingClient(platform, self.media_host()) if hosts_media(post) else platform

    def media_host(self) -> MediaHost:
        """The live WordPress site's media library, else the static site's media folder."""
        portal = self.catalog.channels["portal"]
        settings = self.renderer.context.portal
        if portal.enabled and portal.mode == "live" and settings.wordpress_url:
            client = self._live_client("portal")
            assert isinstance(client, MediaHost)
            return client
        return StaticMediaHost(self.state_dir / "site" / "media", settings.base_url)

    def _platform_client(self, channel: str, post: Post) -> PlatformClient:
        config = self.catalog.channels[channel]
        if config.mode == "live":
            return self._live_client(channel)
        folder = outbox_folder(self.state_dir / "outbox", post)
        if channel == "portal":
            portal = self.renderer.context.portal
            site = self.state_dir / "site"
            return StaticSiteClient(folder, site, portal.base_url, portal.site_name, post.item_id)
        return OutboxClient(folder, channel)

    def _live_client(self, channel: str) -> PlatformClient:
        config = self.catalog.channels[channel]
        env = ClientEnv(
            secrets=secrets_for(config.settings, self.catalog.workspace.env),
            tokens=self.store.tokens(channel),
            state_dir=self.state_dir,
            timeout=self.timeout,
            sleep=self.sleep,
            clock=self.store.clock,
        )
        return self.renderer.channels[channel].live_client(env)

    def secret_values(self) -> list[str]:
        """Every secret credential value of every channel (not user names or app ids), to
        scrub from messages."""
        env = self.catalog.workspace.env
        return [
            value
            for config in self.catalog.channels.values()
            for value in config.settings.credentials.secret_values(
                secrets_for(config.settings, env)
            )
        ]
