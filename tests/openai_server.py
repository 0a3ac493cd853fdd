"""A loopback OpenAI-compatible chat-completions server for tests, with failure injection.

    with OpenAIServer(failures=[500, 503]) as server:
        backend = OpenAICompatibleBackend(base_url=server.base_url, model="m")
        ...
        assert len(server.requests) == 4

The answer to a message is ``answer_for(message)`` cut to ``max_tokens`` whitespace words, so
tests can tell which completion belongs to which message without a model; an ``answerer`` of
the test's own answers from the user turn instead (its text, or its content parts: audio too).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What the server does with one request instead of answering it: an HTTP status to fail with,
# "timeout" (hang for hang_s, longer than any sensible client timeout) or "malformed" (200, not JSON).
Action = int | str | None
MALFORMED_BODY = b"<html><body>502 Bad Gateway from a proxy</body></html>"


def answer_for(message: str | list[dict[str, Any]]) -> str:
    return f"echo: {message}"


class OpenAIServer:
    """An OpenAI-compatible ``POST /v1/chat/completions`` endpoint on 127.0.0.1, in a daemon thread.

    Keyword arguments:
        failures: per request number (0, 1, ... in arrival order), what to do instead of answering:
            a sequence (request i gets ``failures[i]``; requests past its end are answered) or a
            callable ``number -> action``. An action is None (answer), an HTTP status such as 400,
            429, 500 or 503 (sent with an OpenAI-style error body; 429 and 503 carry
            ``Retry-After: retry_after``), "timeout" (say nothing for ``hang_s`` seconds) or
            "malformed" (status 200 with an HTML body). The callable runs on the request's handler
            thread, so it may also block to hold back that one request.
        delay_s: a fixed delay before every response, to slow the server down.
        retry_after: the Retry-After header sent with 429 and 503; None sends none.
        hang_s: how long a "timeout" request hangs (cut short when the server closes).
        answerer: the reply to a user turn (the last message's ``content``); ``answer_for`` echoes it.

    ``base_url`` ends in "/v1"; ``requests`` and ``headers`` are copies of the JSON bodies and the
    headers received so far, in arrival order. Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        *,
        failures: Sequence[Action] | Callable[[int], Action] = (),
        delay_s: float = 0.0,
        retry_after: str | None = "0",
        hang_s: float = 10.0,
        answerer: Callable[[str | list[dict[str, Any]]], str] = answer_for,
    ) -> None:
        self.failures, self.delay_s, self.retry_after, self.hang_s = failures, delay_s, retry_after, hang_s
        self.answerer = answerer
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._requests: list[dict[str, Any]] = []
        self._headers: list[dict[str, str]] = []
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}/v1"
        # A short poll interval keeps close(), which waits for the serving loop to notice, quick.
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        serve.start()

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    @property
    def headers(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._headers)

    def close(self) -> None:
        self._closed.set()  # wakes hanging and delayed handlers so they end with the server
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> int:
        with self._lock:
            self._requests.append(body)
            self._headers.append(headers)
            return len(self._requests) - 1

    def _action(self, number: int) -> Action:
        if callable(self.failures):
            return self.failures(number)
        return self.failures[number] if number < len(self.failures) else None


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when a client opens more at once, and a
    # dropped SYN is resent only after a second: slow enough to look like a timeout.
    request_queue_size = 128
    daemon_threads = True


def completion_for(
    body: dict[str, Any], answerer: Callable[[str | list[dict[str, Any]]], str] = answer_for
) -> dict[str, Any]:
    words = answerer(body["messages"][-1]["content"]).split()
    limit = body.get("max_tokens")
    cut = limit is not None and len(words) > limit
    words = words[:limit] if cut else words
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(words)},
                "finish_reason": "length" if cut else "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(words), "total_tokens": len(words)},
    }


def _handler_for(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            except ValueError:
                return self._send(400, {"error": {"message": "request body is not JSON"}})
            action = server._action(server._record(body, dict(self.headers)))
            if server._closed.wait(server.delay_s) or (action == "timeout" and server._closed.wait(server.hang_s)):
                return  # the server is closing: leave the client to see a dropped connection
            if action == "malformed":
                return self._send(200, MALFORMED_BODY)
            if isinstance(action, int):
                extra = {"Retry-After": server.retry_after} if action in (429, 503) and server.retry_after else {}
                return self._send(action, {"error": {"message": f"injected failure {action}"}}, extra)
            self._send(200, completion_for(body, server.answerer))

        def _send(self, status: int, payload: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout), which is what some tests provoke

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean

    return Handler
