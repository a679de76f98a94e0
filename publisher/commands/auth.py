"""`publisher auth CHANNEL`: get, refresh or check a channel's credentials.

YouTube runs Google's installed-app consent flow and keeps the token file (mode 0600) in
`.publisher/`; Zalo walks through the OA consent page with PKCE (when the OA is not
connected yet, or Zalo refuses its tokens) and stores the rotating tokens in the state
store; Facebook, Telegram and WordPress are checked with authenticated calls. Credentials
that work lift the channel's pause.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from types import ModuleType

import click

from publisher.adapters.base import ChannelSettings
from publisher.catalog import load_catalog
from publisher.commands.output import console, styled
from publisher.errors import WorkspaceError
from publisher.publishing.errors import PublishError
from publisher.publishing.model import ClientEnv
from publisher.publishing.service import secrets_for
from publisher.store.database import Store, open_workspace_store
from publisher.store.deliveries import utcnow
from publisher.store.sealing import SECRET_KEY_VARIABLE, SealError, new_key
from publisher.workspace import notify_runner, open_workspace

ZALO_PKCE_FILE = "zalo-pkce.json"


def run_auth(
    root: Path,
    channel: str,
    code: str | None,
    redirect_uri: str,
    browser: bool,
    reset: bool = False,
) -> int:
    catalog = load_catalog(open_workspace(root))
    config = catalog.channels[channel]
    if channel == "portal" and not getattr(config.settings, "wordpress_url", None):
        console().print("portal: static site mode needs no credentials")
        return 0
    secrets = secrets_for(config.settings, catalog.workspace.env)
    if not catalog.workspace.env.get(SECRET_KEY_VARIABLE):
        console().print(
            f"{SECRET_KEY_VARIABLE} is not set, so tokens would be stored unencrypted. "
            f"Add this line to .env first:\n{SECRET_KEY_VARIABLE}={new_key()}",
            style="yellow",
        )
    state_dir = catalog.workspace.state_dir
    store = open_workspace_store(catalog.workspace)
    env = ClientEnv(secrets=secrets, tokens=store.tokens(channel), state_dir=state_dir)
    module = importlib.import_module(f"publisher.clients.{channel}")
    if reset:
        store.tokens(channel).forget()
        console().print(f"{channel}: the stored tokens were forgotten")
    try:
        if channel == "zalo":
            description = _zalo(module, config.settings, env, code, redirect_uri)
        elif channel == "youtube":
            description = _youtube(module, config.settings, env, browser)
        else:
            description = module.check_credentials(config.settings, env)
        _resume(store, channel)
    except PublishError as error:
        error = error.redacted(config.settings.credentials.secret_values(secrets))
        console().print(f"{channel}: credentials not working: {error}", style="red")
        return 1
    except SealError as error:
        raise WorkspaceError(f"{channel}: {error}".replace("<channel>", channel)) from None
    finally:
        store.close()
    notify_runner(catalog.workspace)
    console().print(styled((f"{channel}: credentials work", "green"), f" ({description})"))
    return 0


def _resume(store: Store, channel: str) -> None:
    """Lift the channel's pause, and let social posts held by a paused portal go on."""
    store.deliveries.unpause(channel)
    store.deliveries.release_held(utcnow())


def _zalo(
    module: ModuleType,
    settings: ChannelSettings,
    env: ClientEnv,
    code: str | None,
    redirect_uri: str,
) -> str:
    """Check the OA's tokens; connect the OA (again) when there are none, when Zalo refuses
    them (a spent, expired or revoked refresh token) or when a --code is given."""
    if code is None and (env.tokens.get("refresh_token") or env.secrets.get("refresh_token")):
        try:
            return module.check_credentials(settings, env)
        except PublishError as error:
            if not module.needs_consent(error):
                raise
            console().print(f"{error}\nThe OA has to be connected again.", style="yellow")
    _zalo_consent(module, settings, env, code, redirect_uri)
    return module.check_credentials(settings, env)


def _zalo_consent(
    module: ModuleType,
    settings: ChannelSettings,
    env: ClientEnv,
    code: str | None,
    redirect_uri: str,
) -> None:
    names = settings.credentials
    missing = [
        getattr(names, name) for name in ("app_id", "app_secret") if not env.secrets.get(name)
    ]
    if missing:
        raise WorkspaceError(f"zalo: set {' and '.join(missing)} in .env first")
    pkce = env.state_dir / ZALO_PKCE_FILE
    if code is not None and not pkce.is_file():
        raise WorkspaceError(
            f"zalo: no consent was started on this machine ({pkce} is missing): the code "
            "must come from the consent address this command prints; run "
            "`publisher auth zalo` without --code first"
        )
    if code is None:
        verifier = module.new_code_verifier()
        _write_private(pkce, json.dumps({"code_verifier": verifier}))
        url = module.consent_url(
            settings, env.secrets["app_id"], redirect_uri, verifier, "publisher"
        )
        console().print("Open this address, allow the app, then paste the 'code' from the address")
        console().print(f"the browser is sent to:\n{url}")
        code = click.prompt("code")
    verifier = json.loads(pkce.read_text(encoding="utf-8"))["code_verifier"]
    module.exchange_code(settings, env, code, verifier)
    pkce.unlink(missing_ok=True)


def _youtube(module: ModuleType, settings: ChannelSettings, env: ClientEnv, browser: bool) -> str:
    """Check the refresh token; sign in to Google (again) when there is none, or when Google
    refuses the one in the token file (revoked or expired)."""
    if env.secrets.get("refresh_token") or (env.state_dir / module.TOKEN_FILE).is_file():
        try:
            return module.check_credentials(settings, env)
        except PublishError as error:
            if not module.needs_consent(error):
                raise
            variable = settings.credentials.refresh_token
            if env.secrets.get("refresh_token"):  # it would still win over a new token file
                raise PublishError(
                    error.kind,
                    f"Google refused the refresh token in {variable}: it was revoked or has "
                    f"expired. Remove {variable} from .env (and the environment), then run "
                    "`publisher auth youtube` again to sign in to Google anew",
                    platform=error.platform,
                    platform_code=error.platform_code,
                ) from None
            console().print(f"{error}\nSigning in to Google again.", style="yellow")
    _youtube_consent(module, settings, env, browser)
    return module.check_credentials(settings, env)


def _youtube_consent(
    module: ModuleType, settings: ChannelSettings, env: ClientEnv, browser: bool
) -> None:
    names = settings.credentials
    secrets = env.secrets
    missing = [
        getattr(names, name) for name in ("client_id", "client_secret") if not secrets.get(name)
    ]
    if missing:
        raise WorkspaceError(f"youtube: set {' and '.join(missing)} in .env first")
    hint = module.authorize(
        settings,
        secrets["client_id"],
        secrets["client_secret"],
        env.state_dir / module.TOKEN_FILE,
        browser,
    )
    console().print(hint)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
