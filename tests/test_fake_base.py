"""The fake-server base itself: recording, multipart parsing and fault injection."""

from __future__ import annotations

import pytest
import requests

from .fakes.base import FakePlatform, Fault, Request, Response


class Echo(FakePlatform):
    def route(self, request: Request) -> Response:
        fields, files = request.form()
        return Response(200, {"fields": fields, "files": {k: v[0] for k, v in files.items()}})


def test_records_and_parses_multipart() -> None:
    with Echo() as fake:
        answer = requests.post(
            f"{fake.base_url}/x",
            data={"a": "Đồng"},
            files={"f": ("ảnh.jpg", b"\xff\xd8", "image/jpeg")},
        ).json()
        assert answer == {"fields": {"a": "Đồng"}, "files": {"f": "ảnh.jpg"}}
        assert fake.requests_to("/x")[0].method == "POST"


def test_injected_faults_replace_answers_in_order() -> None:
    with Echo() as fake:
        fake.inject(Fault(Response(503, {"error": "busy"})))
        fake.inject(Fault(drop=True))
        assert requests.get(f"{fake.base_url}/a").status_code == 503
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{fake.base_url}/a")
        assert requests.get(f"{fake.base_url}/a").status_code == 200
        fake.inject(Fault(hang=True))
        with pytest.raises(requests.Timeout):
            requests.get(f"{fake.base_url}/a", timeout=0.2)
        assert requests.get(f"{fake.base_url}/a").status_code == 200  # the next one answers


def test_a_fault_that_acted_processes_the_request_before_the_line_drops() -> None:
    with Counter() as fake:
        fake.inject(Fault(drop=True, acted=True))
        with pytest.raises(requests.ConnectionError):
            requests.post(f"{fake.base_url}/a")
        fake.inject(Fault(hang=True))
        with pytest.raises(requests.Timeout):
            requests.post(f"{fake.base_url}/a", timeout=0.2)
        assert fake.processed == 1  # the drop acted first; the hang did not


class Counter(FakePlatform):
    def __init__(self) -> None:
        super().__init__()
        self.processed = 0

    def route(self, request: Request) -> Response:
        self.processed += 1
        return Response(200, {})
