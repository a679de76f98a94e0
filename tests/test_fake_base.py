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
        fake.inject(Fault(delay=1.0))
        with pytest.raises(requests.Timeout):
            requests.get(f"{fake.base_url}/a", timeout=0.2)
