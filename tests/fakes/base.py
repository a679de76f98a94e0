"""A fake platform server: real HTTP on 127.0.0.1, request recording, fault injection.

Subclasses implement `route(request) -> Response` with the platform's real contract
(required fields, limits, auth, error shapes). Tests queue faults that replace the next
matching answers: an HTTP error with a body, no answer at all until the client gives up
(a timeout that depends on no machine's speed: the fake waits for the client to close),
or a connection dropped after the request was read (the client cannot know whether
the platform acted on it). `acted` makes the platform process the request first.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
        """Fields and files of an urlencoded or multipart/form-data body."""
        content_type = self.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            return parse_multipart(content_type, self.body)
        fields = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[-1] for k, v in fields.items()}, {}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


@dataclass
class Fault:
    """Replaces an answer: `response`, or `hang` (silence until the client gives up), or
    `drop` the line; with `acted`, the platform processes the request before it hangs or
    drops (its answer is lost)."""

    response: Response | None = None
    hang: bool = False
    drop: bool = False
    acted: bool = False
    path_contains: str = ""


HANG_LIMIT = 120.0  # a hung answer waits this long at most for the client to give up


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[name] = (filename, payload, part.get_content_type())
        else:
            fields[name] = payload.decode(part.get_content_charset() or "utf-8")
    return fields, files


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # concurrent clients (token-rotation tests) must not be dropped

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up on a delayed answer breaks the pipe: expected, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FakePlatform:
    """Base of every fake: start it, point the client at `base_url`, read `requests`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: deque[Fault] = deque()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- to implement -------------------------------------------------------------
    def route(self, request: Request) -> Response:
        raise NotImplementedError

    # -- test controls ------------------------------------------------------------
    def inject(self, fault: Fault, times: int = 1) -> None:
        with self.lock:
            self.faults.extend([fault] * times)

    def requests_to(self, fragment: str) -> list[Request]:
        return [r for r in self.requests if fragment in r.path]

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakePlatform:
        self.stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # hung answers give up
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plumbing -------------------------------------------------------------------
    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in list(self.faults):
                if fault.path_contains in request.path:
                    self.faults.remove(fault)
                    return fault
        return None


def _wait_for_the_client_to_leave(connection: socket.socket, stopping: threading.Event) -> None:
    """Answer nothing until the client closes the connection (its timeout), the fake
    stops, or HANG_LIMIT passes."""
    deadline = time.monotonic() + HANG_LIMIT
    while time.monotonic() < deadline and not stopping.is_set():
        readable, _, _ = select.select([connection], [], [], 0.1)
        if readable:
            try:
                if not connection.recv(65536):
                    return  # the client gave up
            except OSError:
                return


def _handler_for(fake: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) < length:  # the client died mid-request: servers act on nothing
                self.close_connection = True
                return
            parts = urlsplit(self.path)
            request = Request(
                self.command,
                parts.path,
                parse_qs(parts.query, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            with fake.lock:
                fake.requests.append(request)
            fault = fake._take_fault(request)
            if fault and fault.acted:
                with fake.lock:
                    fake.route(request)
            if fault and (fault.drop or fault.hang):
                if fault.hang:
                    _wait_for_the_client_to_leave(self.connection, fake.stopping)
                self.close_connection = True
                self.connection.close()
                return
            response = fault.response if fault and fault.response else None
            if response is None:
                with fake.lock:
                    response = fake.route(request)
            data = response.encoded()
            self.send_response(response.status)
            headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler
