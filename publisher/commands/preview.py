"""`publisher preview`: the local preview server, or its static export."""

from __future__ import annotations

from pathlib import Path

from publisher.commands.output import console
from publisher.workspace import open_workspace


def run_preview(root: Path, host: str, port: int, out: Path | None) -> int:
    workspace = open_workspace(root)
    if out is not None:
        from publisher.preview.export import export_preview

        report = export_preview(workspace, out)
        console().print(f"{report.pages} pages and {report.files} images written to {out}")
        return 0
    import uvicorn

    from publisher.preview.app import PreviewState, create_app, watch

    state = PreviewState(workspace)
    observer = watch(state)
    console().print(f"Preview: http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        uvicorn.run(create_app(state, host=host), host=host, port=port, log_level="warning")
    finally:
        observer.stop()
    return 0
