"""A local stand-in for the OpenAI and Anthropic APIs, on 127.0.0.1, for the real SDKs.

:class:`FakeProvider` is a threaded ``http.server`` on an ephemeral port speaking both
wire formats: JSON and server-sent events (chunked), with usage, error bodies, rate
limits, dropped connections, slow answers and streams cut off. Each request takes the
next scripted :class:`Behaviour` (or the default). It counts requests and records the
usage it reported for every answer delivered in full (what it "billed").
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Behaviour:
    """What the server does with one request.

    kinds: ``ok`` (answer, JSON or SSE as asked), ``status`` (an error status with the
    provider's error body), ``drop`` (close without answering), ``slow`` (answer after
    ``delay`` s), ``cut`` (stream: send the first events, then break the connection),
    ``latency`` delays any answer (less than the client's timeout: still delivered);
    ``cut`` (JSON: half the body, then the connection breaks);
    ``slow`` answers after the client has given up, so it records no bill;
    ``error_event`` (Anthropic stream: an ``error`` event mid-stream), ``no_usage``
    (OpenAI JSON answer without its ``usage`` field; nothing is recorded as billed).
    """

    kind: str = "ok"
    status: int = 200
    input_tokens: int = 12  # uncached; OpenAI reports input + cache_read as its total
    output_tokens: int = 7
    cache_write: int = 0  # Anthropic: 5-minute cache writes
    cache_read: int = 0
    delay: float = 0.0
    latency: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Billed:
    """One answer delivered in full: the usage the server reported for it."""

    path: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_write: int
    cache_read: int


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeProvider:
    """The server; ``with FakeProvider() as fp:`` starts and stops it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self.billed: list[Billed] = []
        self.script: deque[Behaviour] = deque()
        self.default = Behaviour()
        self.stop = threading.Event()
        provider = self

        class Handler(_Handler):
            fake = provider

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Forget the script, the counts and the bills (the server keeps running)."""
        with self.lock:
            self.requests = 0
            self.bodies.clear()
            self.billed.clear()
            self.script.clear()
            self.default = Behaviour()

    def push(self, *behaviours: Behaviour) -> None:
        with self.lock:
            self.script.extend(behaviours)

    def _next(self, body: dict[str, Any]) -> Behaviour:
        with self.lock:
            self.requests += 1
            self.bodies.append(body)
            return self.script.popleft() if self.script else self.default

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many clients connect at once in the concurrency tests
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its keep-alive connection (an abandoned stream, a timeout) is
        # normal here; anything else is a bug of the fake and is printed.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _openai_error(status: int) -> dict[str, Any]:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
    return {"error": {"message": f"fake error {status}", "type": kind, "param": None,
                      "code": kind}}


_ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error",
                     403: "permission_error", 404: "not_found_error",
                     413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
                     529: "overloaded_error"}


def _anthropic_error(status: int) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ANTHROPIC_ERRORS.get(status, "api_error"),
                                       "message": f"fake error {status}"}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeProvider

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm
        # and delayed ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        n = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(n) or b"{}")
        b = self.fake._next(body)
        anthropic = self.path.startswith("/v1/messages")
        if b.kind == "drop":
            self._abort()
            return
        if b.kind == "slow" and self.fake.stop.wait(b.delay):
            return
        if b.latency and self.fake.stop.wait(b.latency):
            return
        if b.kind == "status":
            err = _anthropic_error(b.status) if anthropic else _openai_error(b.status)
            self._json(b.status, err, b.headers)
            return
        model = str(body.get("model", ""))
        if body.get("stream"):
            self._stream(body, b, model)
            return
        if anthropic:
            payload = _anthropic_message(model, b)
        elif self.path.startswith("/v1/responses"):
            payload = _response(model, b, "completed")
        else:
            payload = _chat(model, b)
        if b.kind == "no_usage":
            payload["usage"] = None
        if b.kind == "ok":  # billed as it is reported, before the client can act on it
            self._bill(model, b)
        if b.kind == "cut":
            self._cut_json(payload)
            return
        self._json(200, payload, b.headers)

    def _cut_json(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
        except OSError:
            pass
        self._abort()

    def _bill(self, model: str, b: Behaviour) -> None:
        with self.fake.lock:
            self.fake.billed.append(Billed(self.path, model, b.input_tokens, b.output_tokens,
                                           b.cache_write, b.cache_read))

    def _abort(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> bool:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True

    def _stream(self, body: dict[str, Any], b: Behaviour, model: str) -> None:
        if self.path.startswith("/v1/messages"):
            events = _anthropic_events(model, b)
        elif self.path.startswith("/v1/responses"):
            events = _responses_events(model, b)
        else:
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = _chat_events(model, b, usage)
        try:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            if b.kind == "cut":
                events = events[:2]
            for (event, data), (tag, _) in zip(events, _tagged(events), strict=True):
                if tag == "usage" and b.kind == "ok":
                    self._bill(model, b)
                text = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
                raw = text.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
            if b.kind == "cut":
                self.wfile.write(b"ff\r\ndata: {\"trunc")  # a chunk that never ends
                self.wfile.flush()
                self._abort()
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            return


def _tagged(events: list[tuple[str | None, str]]) -> list[tuple[str, str]]:
    """Which events of a stream carry the final usage (tagged ``usage``)."""
    out = []
    for event, data in events:
        d = json.loads(data) if data != "[DONE]" else {}
        final = (d.get("usage") is not None and "choices" in d) or event in (
            "message_delta", "response.completed")
        out.append(("usage" if final else "other", data))
    return out


def _chat(model: str, b: Behaviour) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": _chat_usage(b)}


def _chat_usage(b: Behaviour) -> dict[str, Any]:
    prompt = b.input_tokens + b.cache_read  # OpenAI's prompt count includes cached tokens
    return {"prompt_tokens": prompt, "completion_tokens": b.output_tokens,
            "total_tokens": prompt + b.output_tokens,
            "prompt_tokens_details": {"cached_tokens": b.cache_read}}


def _chat_events(model: str, b: Behaviour, usage: bool) -> list[tuple[str | None, str]]:
    def chunk(choices: list[Any], **extra: Any) -> tuple[None, str]:
        return None, json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                                 "created": 0, "model": model, "choices": choices, **extra})

    out = [chunk([{"index": 0, "delta": {"role": "assistant", "content": w},
                   "finish_reason": None}]) for w in ("hel", "lo", "!")]
    out.append(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    if usage:
        out.append(chunk([], usage=_chat_usage(b)))
    out.append((None, "[DONE]"))
    return out


def _response(model: str, b: Behaviour | None, status: str) -> dict[str, Any]:
    usage = None if b is None else {
        "input_tokens": b.input_tokens + b.cache_read,
        "input_tokens_details": {"cached_tokens": b.cache_read},
        "output_tokens": b.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": b.input_tokens + b.cache_read + b.output_tokens}
    output = [] if b is None else [
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "hello", "annotations": []}]}]
    return {"id": "resp_1", "object": "response", "created_at": 0, "model": model,
            "status": status, "output": output, "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": [], "usage": usage}


def _responses_events(model: str, b: Behaviour) -> list[tuple[str | None, str]]:
    seq = iter(range(100))
    out: list[tuple[str | None, str]] = [("response.created", json.dumps(
        {"type": "response.created", "sequence_number": next(seq),
         "response": _response(model, None, "in_progress")}))]
    for w in ("hel", "lo"):
        out.append(("response.output_text.delta", json.dumps(
            {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "delta": w, "logprobs": [],
             "sequence_number": next(seq)})))
    out.append(("response.completed", json.dumps(
        {"type": "response.completed", "sequence_number": next(seq),
         "response": _response(model, b, "completed")})))
    return out


def _anthropic_usage(b: Behaviour, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": b.input_tokens, "output_tokens": output_tokens,
            "cache_creation_input_tokens": b.cache_write,
            "cache_creation": {"ephemeral_5m_input_tokens": b.cache_write,
                               "ephemeral_1h_input_tokens": 0},
            "cache_read_input_tokens": b.cache_read}


def _anthropic_message(model: str, b: Behaviour) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": _anthropic_usage(b, b.output_tokens)}


def _anthropic_events(model: str, b: Behaviour) -> list[tuple[str | None, str]]:
    start = {**_anthropic_message(model, b), "content": [], "stop_reason": None,
             "usage": _anthropic_usage(b, 1)}
    ev: list[tuple[str | None, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "hello"}}),
    ]
    if b.kind == "error_event":
        ev.append(("error", {"type": "error", "error": {"type": "overloaded_error",
                                                        "message": "Overloaded"}}))
    else:
        ev += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": b.output_tokens}}),
            ("message_stop", {"type": "message_stop"}),
        ]
    return [(e, json.dumps(d)) for e, d in ev]
