"""The `publisher` command line: thin commands over the library (DESIGN section 7).

Exit codes: 0 success, 1 the command ran and found problems, 2 usage or configuration error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from publisher import __version__
from publisher.adapters.names import CHANNEL_NAMES
from publisher.errors import PublisherError


class _PublisherGroup(click.Group):
    """Prints user-facing errors as one clean message with the right exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PublisherError as exc:
            from publisher.content.text import printable

            error = click.ClickException(printable(str(exc)))
            error.exit_code = exc.exit_code
            raise error from None


def root_option(function):
    """`--root DIR` on the group and on every command (the command's wins)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
        if value is not None:
            ctx.ensure_object(dict)["root"] = value

    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="PUBLISHER_ROOT",
        expose_value=False,
        callback=remember,
        is_eager=True,
        help="Workspace folder (default: the current folder).",
    )(function)


def workspace_root(ctx: click.Context) -> Path:
    return ctx.ensure_object(dict).get("root", Path())


@click.group(cls=_PublisherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@root_option
@click.version_option(__version__, prog_name="publisher")
def main() -> None:
    """Publish a campaign's articles, infographics and videos to the portal, Facebook,
    Zalo, YouTube and Telegram on its calendar."""


@main.command()
@root_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--strict", is_flag=True, help="Treat warnings as problems (exit 1).")
@click.pass_context
def check(ctx: click.Context, as_json: bool, strict: bool) -> None:
    """Validate content, channels and the calendar; report every problem at once."""
    from publisher.commands.check import run_check

    ctx.exit(run_check(workspace_root(ctx), as_json=as_json, strict=strict))


@main.command()
@root_option
@click.argument("item")
@click.option("--channel", type=click.Choice(CHANNEL_NAMES), help="Only this channel.")
@click.option("--json", "as_json", is_flag=True, help="The exact request payloads, as JSON.")
@click.pass_context
def render(ctx: click.Context, item: str, channel: str | None, as_json: bool) -> None:
    """Show the post(s) ITEM becomes on each of its channels (ITEM: an id from `check`)."""
    from publisher.commands.render import run_render

    ctx.exit(run_render(workspace_root(ctx), item, channel, as_json))


@main.command()
@root_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (default: .publisher/site/ in the workspace).",
)
@click.pass_context
def site(ctx: click.Context, out: Path | None) -> None:
    """Write the portal's static site: every ready article, the index and the images."""
    from publisher.commands.site import run_site

    ctx.exit(run_site(workspace_root(ctx), out))


@main.command()
@root_option
@click.argument("item")
@click.option(
    "--channel", type=click.Choice(CHANNEL_NAMES), required=True, help="Where to publish."
)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.option(
    "--force", is_flag=True, help="Publish a draft or an item outside its dates anyway."
)
@click.pass_context
def publish(ctx: click.Context, item: str, channel: str, dry_run: bool, force: bool) -> None:
    """Publish ITEM on one channel now (live, or into the outbox without credentials)."""
    from publisher.commands.publish import run_publish

    ctx.exit(run_publish(workspace_root(ctx), item, channel, dry_run, force))


@main.command()
@root_option
@click.argument("channel", type=click.Choice(CHANNEL_NAMES))
@click.option("--code", help="Zalo: the code from the consent page's callback address.")
@click.option(
    "--redirect-uri",
    default="https://localhost/zalo-callback",
    show_default=True,
    help="Zalo: the callback address registered for the app.",
)
@click.option("--no-browser", is_flag=True, help="YouTube: print the consent address instead.")
@click.option("--reset", is_flag=True, help="Forget the channel's stored tokens first.")
@click.pass_context
def auth(
    ctx: click.Context,
    channel: str,
    code: str | None,
    redirect_uri: str,
    no_browser: bool,
    reset: bool,
) -> None:
    """Get, refresh or check CHANNEL's credentials."""
    from publisher.commands.auth import run_auth

    root = workspace_root(ctx)
    ctx.exit(run_auth(root, channel, code, redirect_uri, not no_browser, reset))


@main.command()
@root_option
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--ics", type=click.Path(dir_okay=False, path_type=Path), help="Also write an iCalendar file."
)
@click.pass_context
def plan(
    ctx: click.Context,
    start: dt.datetime | None,
    end: dt.datetime | None,
    as_json: bool,
    ics: Path | None,
) -> None:
    """The campaign timeline: which item goes where and when."""
    from publisher.commands.plan import run_plan

    ctx.exit(run_plan(workspace_root(ctx), _day(start), _day(end), as_json, ics))


@main.command()
@root_option
@click.option(
    "--rehearse",
    is_flag=True,
    help="Run the whole calendar now, on a simulated clock, into the outbox.",
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="Rehearsal: first day.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Rehearsal: last day.")
@click.pass_context
def run(
    ctx: click.Context, rehearse: bool, start: dt.datetime | None, end: dt.datetime | None
) -> None:
    """Publish the calendar's posts as they come due (stop with Ctrl-C or SIGTERM)."""
    from publisher.commands.run import run_rehearsal, run_service

    root = workspace_root(ctx)
    ctx.exit(run_rehearsal(root, _day(start), _day(end)) if rehearse else run_service(root))


@main.command()
@root_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """What was published, what failed and why, what is unknown, what is next."""
    from publisher.commands.status import run_status

    ctx.exit(run_status(workspace_root(ctx), as_json))


@main.command()
@root_option
@click.argument("delivery")
@click.pass_context
def retry(ctx: click.Context, delivery: str) -> None:
    """Send a failed or skipped DELIVERY again (a number from `status`, or ITEM:CHANNEL)."""
    from publisher.commands.status import run_retry

    ctx.exit(run_retry(workspace_root(ctx), delivery))


@main.command()
@root_option
@click.argument("delivery")
@click.option("--published/--not-published", required=True, help="What you found on the channel.")
@click.option("--url", help="The post's address, when it was published.")
@click.pass_context
def resolve(ctx: click.Context, delivery: str, published: bool, url: str | None) -> None:
    """Settle a DELIVERY whose outcome is unknown, after checking the channel."""
    from publisher.commands.status import run_resolve

    ctx.exit(run_resolve(workspace_root(ctx), delivery, published, url))


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@main.command()
@root_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, help="Port to listen on.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the pages as static files to this folder instead of serving them.",
)
@click.pass_context
def preview(ctx: click.Context, host: str, port: int, out: Path | None) -> None:
    """Show every post on every channel in the browser, before anything goes out."""
    from publisher.commands.preview import run_preview

    ctx.exit(run_preview(workspace_root(ctx), host, port, out))
