"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a moto server, for the fail-closed tests.

Every request is forwarded to moto unless the plan says otherwise:

* `deny`: AccessDenied for a service (`monitoring`, the SigV4 signing name) or one operation of it
  (`dynamodb:GetItem`), in the protocol's own error shape, on every try;
* `rate`: the share of requests given a transient fault, chosen by a seeded generator among
  throttling (in each protocol's own error body: JSON `__type`, query `<ErrorResponse>`, EC2
  `<Response><Errors>`, S3 `<Error>`), 500 and 503 with XML and with HTML bodies, a connection reset
  in the middle of the response body, and a slow response. A request that already met
  `max_consecutive` faults in a row (the tries of one API call share botocore's
  `amz-sdk-invocation-id`) is forwarded, so every fault stays transient: a client that retries
  always gets through.

`faults` counts what was injected, by kind.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRANSIENT = ("throttle", "500-xml", "503-xml", "500-html", "503-html", "reset", "slow")
_CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer",
                         "upgrade", "proxy-authenticate", "proxy-authorization"})
HTML_PAGE = (b"<!doctype html>\n<html><head><title>502 Bad Gateway</title></head>"
             b"<body><h1>Service temporarily unavailable</h1><hr><center>nginx</center></body></html>\n")


@dataclass
class FaultPlan:
    """What the proxy does; may be changed between requests (tests switch it per phase)."""

    seed: int = 0
    rate: float = 0.0
    kinds: tuple[str, ...] = TRANSIENT
    deny: frozenset[str] = frozenset()
    max_consecutive: int = 2
    slow_seconds: float = 0.15


@dataclass
class _Call:
    service: str
    operation: str
    protocol: str  # json | query | ec2 | rest-xml


@dataclass
class FaultProxy:
    """The proxy server; `endpoint` is its URL. Use as a context manager (or `start`/`stop`)."""

    upstream: str
    plan: FaultPlan = field(default_factory=FaultPlan)
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.upstream)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._lock = threading.Lock()
        self._rng = random.Random(self.plan.seed)
        self._streak: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reseed(self, plan: FaultPlan) -> None:
        """Switch to `plan`, with a fresh generator and counts."""
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed)
            self._streak.clear()
            self.faults.clear()
            self.requests = 0

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- deciding ---------------------------------------------------------------------------

    def _decide(self, call: _Call, keys: tuple[str, ...]) -> str | None:
        """The fault for this request: `deny`, a transient kind, or None to forward it. `keys` name the
        request (its API call, its content): none may meet more than `max_consecutive` faults in a row."""
        plan = self.plan
        if call.service in plan.deny or f"{call.service}:{call.operation}" in plan.deny:
            return "deny"
        keys = tuple(k for k in keys if k)
        with self._lock:
            self.requests += 1
            roll = self._rng.random()
            kind = self._rng.choice(plan.kinds) if plan.kinds else None
            if kind is None or roll >= plan.rate or any(self._streak[k] >= plan.max_consecutive for k in keys):
                for k in keys:
                    self._streak.pop(k, None)
                return None
            for k in keys:
                self._streak[k] += 1
            self.faults[kind] += 1
            return kind

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                call = _classify(self.command, self.path, dict(self.headers.items()), body)
                # the tries of one API call share botocore's invocation id; a call made again, its content
                keys = (self.headers.get("amz-sdk-invocation-id") or "",
                        hashlib.sha256(f"{self.command} {self.path}".encode() + body).hexdigest())
                fault = proxy._decide(call, keys)
                if fault == "deny":
                    self._send(*_denied(call))
                    return
                if fault == "throttle":
                    self._send(*_throttled(call))
                    return
                if fault in ("500-xml", "503-xml"):
                    self._send(int(fault[:3]), "application/xml",
                               b"<Error><Code>InternalError</Code><Message>We encountered an internal error."
                               b"</Message></Error>")
                    return
                if fault in ("500-html", "503-html"):
                    self._send(int(fault[:3]), "text/html", HTML_PAGE)
                    return
                if fault == "slow":
                    time.sleep(proxy.plan.slow_seconds)
                status, headers, answer = self._forward(body)
                if fault == "reset" and len(answer) > 1:
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer[: len(answer) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    answer = response.read()
                    kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
                    return response.status, kept, answer
                finally:
                    conn.close()

            def _send(self, status: int, content_type: str, payload: bytes,
                      extra: tuple[tuple[str, str], ...] = ()) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in extra:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        return Handler


def _classify(method: str, path: str, headers: dict[str, str], body: bytes) -> _Call:
    """Service (SigV4 signing name), operation and protocol of a request."""
    lowered = {k.lower(): v for k, v in headers.items()}
    found = _CREDENTIAL.search(lowered.get("authorization", ""))
    service = found.group(1) if found else "unknown"
    target = lowered.get("x-amz-target")
    if target:
        return _Call(service, target.rsplit(".", 1)[-1], "json")
    if service == "s3":
        return _Call(service, _s3_operation(method, path), "rest-xml")
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
    action = (form.get("Action") or urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("Action")
              or ["Unknown"])[0]
    return _Call(service, action, "ec2" if service == "ec2" else "query")


def _s3_operation(method: str, path: str) -> str:
    """The S3 operation of a REST request, for the few a state read makes."""
    parts = urllib.parse.urlsplit(path)
    has_key = "/" in parts.path.strip("/")
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    if has_key:
        return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(
            method, method)
    if method == "GET" and ("list-type" in query or not query):
        return "ListObjects"
    return f"{method}Bucket{''.join(k.capitalize() for k in sorted(query))}"


def _denied(call: _Call) -> tuple[int, str, bytes]:
    message = (f"User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: "
               f"{call.service}:{call.operation}")
    if call.protocol == "json":
        return 400, "application/x-amz-json-1.1", json.dumps(
            {"__type": "AccessDeniedException", "message": message}).encode()
    if call.protocol == "ec2":
        return 403, "text/xml", (f"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>{message}"
                                 "</Message></Error></Errors><RequestID>fault</RequestID></Response>").encode()
    if call.protocol == "rest-xml":
        return 403, "application/xml", (f"<Error><Code>AccessDenied</Code><Message>{message}</Message>"
                                        "<RequestId>fault</RequestId></Error>").encode()
    return 403, "text/xml", (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}"
                             "</Message></Error><RequestId>fault</RequestId></ErrorResponse>").encode()


def _throttled(call: _Call) -> tuple[int, str, bytes]:
    if call.protocol == "json":
        return 400, "application/x-amz-json-1.1", json.dumps(
            {"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    if call.protocol == "ec2":
        return 503, "text/xml", (b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
                                 b"exceeded.</Message></Error></Errors><RequestID>fault</RequestID></Response>")
    if call.protocol == "rest-xml":
        return 503, "application/xml", (b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                                        b"</Message></Error>")
    return 400, "text/xml", (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate "
                             b"exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>")


@contextmanager
def fault_proxy(upstream: str, plan: FaultPlan | None = None) -> Iterator[FaultProxy]:
    """A running FaultProxy in front of `upstream` for the duration of the block."""
    with FaultProxy(upstream, plan or FaultPlan()) as proxy:
        yield proxy
