"""The figures of a reliability run: printed (see them with -s) and kept as JSON."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

from .history import Verdict

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"


def totals(verdicts: list[Verdict]) -> dict[str, Any]:
    states: Counter[str] = Counter()
    attempts: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for verdict in verdicts:
        states.update(verdict.states)
        attempts.update(verdict.attempts)
        unknown.update(verdict.unknown)
        reasons.update(verdict.unknown_reasons)
    return {
        "campaigns": len(verdicts),
        "deliveries": sum(states.values()),
        "end_states": dict(sorted(states.items())),
        "attempts": dict(sorted(attempts.items())),
        "unknown_by_channel": dict(sorted(unknown.items())),
        "unknown_reasons": dict(reasons.most_common()),
        "duplicates_found": sum(len(v.duplicates) for v in verdicts),
        "losses_found": sum(len(v.losses) for v in verdicts),
        "other_problems": sum(
            len(v.problems) - len(v.duplicates) - len(v.losses) for v in verdicts
        ),
    }


def publish(name: str, figures: dict[str, Any]) -> Path:
    """Print the figures and write them to tests/artifacts/<name>.json."""
    text = json.dumps(figures, ensure_ascii=False, indent=2, default=str)
    print(f"\n{name}: {text}")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.json"
    path.write_text(text + "\n", encoding="utf-8")
    return path
