"""How fast the preview answers once warm: the item page of a five-channel item, and the index.

    python benchmarks/preview.py [--runs N]

Runs in-process (Starlette's test client) on a copy of the sample workspace, once each page
is drawn (warm-up); prints the median and the 95th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = ("/items/nuoc-rut-2026/video/huong-dan-cai-dat-vssid", "/", "/calendar", "/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

    from publisher.preview.app import PreviewState, create_app
    from publisher.workspace import open_workspace

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        for name in ("content", "channels"):
            shutil.copytree(REPO / name, root / name)
        shutil.copy(REPO / "schedules.yaml", root / "schedules.yaml")
        app = create_app(PreviewState(open_workspace(root, {})), live_reload=False)
        client = TestClient(app, base_url="http://127.0.0.1:8765")  # the Host it answers to
        print(f"{'page':<55} {'median ms':>10} {'p95 ms':>8}")
        for page in PAGES:
            while client.get(page).status_code == 503:  # "still preparing": drawn meanwhile
                pass
            times = sorted(_timed(client, page) for _ in range(runs))
            p95 = times[max(0, int(0.95 * len(times)) - 1)]
            print(f"{page:<55} {statistics.median(times):>10.1f} {p95:>8.1f}")


def _timed(client: object, page: str) -> float:
    start = time.perf_counter()
    answer = client.get(page)  # type: ignore[attr-defined]
    assert answer.status_code == 200, page
    return (time.perf_counter() - start) * 1000


if __name__ == "__main__":
    main()
