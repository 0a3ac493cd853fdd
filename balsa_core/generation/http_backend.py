"""Generation through any server that speaks the OpenAI chat-completions API.

This backend is for the ablation where a stronger external LLM writes the training targets
instead of the backbone, and for generating with a model served elsewhere (vLLM's or llama.cpp's
OpenAI-compatible server, a hosted API). It POSTs one request per user message to
``{base_url}/chat/completions`` with ``{"model", "messages": [{"role": "user", ...}],
"max_tokens", "temperature", "top_p", "seed", "n": 1}`` and reads ``choices[0].message.content``,
``choices[0].finish_reason`` and ``usage.completion_tokens`` from the answer. The server renders
the chat template, so ``model`` must name a model it serves. A user turn is text, or content
parts (:func:`audio_content`: a clip as base64 WAV in an ``input_audio`` part, then the text), so
that an audio LLM behind such a server (Qwen2-Audio in vLLM) answers the evaluation's items too.

Requests run in parallel on a thread pool. Transient failures (connection errors, timeouts,
HTTP 408, 409, 429, 5xx and malformed bodies) are retried with exponential backoff, each wait
drawn between half and all of its step so that parallel workers refused together do not retry
together, honouring ``Retry-After``; other HTTP errors fail at once. ``max_retries`` counts retries after the first
attempt, so ``max_retries=5`` allows up to 6 attempts per message.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import math
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

from balsa_core.generation.backend import Completion, GenerationError, SamplingSettings, with_system_message
from balsa_core.prompts import UserContent, chat_messages

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 409, 429})
SNIPPET_CHARS = 200


class MalformedResponseError(ValueError):
    """A response body that is not a chat completion; its message quotes the body's beginning."""


class _AttemptError(Exception):
    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class _Abort:
    """Shared by the workers of one ``generate`` call: the first failure stops the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = error
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def audio_content(wav: bytes, text: str) -> list[dict[str, Any]]:
    """A user turn about one clip: the WAV file's bytes as an ``input_audio`` part (how vLLM's
    OpenAI-compatible server takes audio for Qwen2-Audio), then ``text``."""
    return [
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode("ascii"), "format": "wav"}},
        {"type": "text", "text": text},
    ]


def build_request_body(
    model: str, message: UserContent, settings: SamplingSettings, index: int, system_message: str | None = None
) -> dict[str, Any]:
    """The chat-completions request for message ``index`` of a ``generate`` call."""
    return {
        "model": model,
        "messages": chat_messages(message, system_message),
        "max_tokens": settings.max_new_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "seed": settings.seed + index,
        "n": 1,
    }


def parse_response(body: bytes | str) -> Completion:
    """Read the completion out of a chat-completions response body."""
    try:
        payload = json.loads(body)
        choice = payload["choices"][0]
        content = choice["message"].get("content")
        finish_reason = choice.get("finish_reason")
        usage = payload.get("usage") or {}
        tokens = usage.get("completion_tokens")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        raise MalformedResponseError(f"malformed response body: {_snippet(body)!r}") from error
    if content is not None and not isinstance(content, str):
        raise MalformedResponseError(f"malformed response body (content is not text): {_snippet(body)!r}")
    return Completion(
        text=(content or "").strip(),
        num_tokens=tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None,
        # Servers differ in what they call end-of-turn ("stop", "eos", null); only "length" is a cut.
        finished=finish_reason != "length",
    )


def _snippet(body: bytes | str) -> str:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = text.strip()
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "..."


def _error_text(body: bytes) -> str:
    """The server's own explanation of an HTTP error, from OpenAI-style or plain bodies."""
    try:
        payload = json.loads(body)
    except ValueError:
        return _snippet(body)
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return _snippet(error["message"])
        for candidate in (error, payload.get("message"), payload.get("detail")):
            if isinstance(candidate, str):
                return _snippet(candidate)
    return _snippet(body)


def equal_jitter(wait_s: float) -> float:
    """Half the wait for sure, the other half at random: spread, yet never an immediate retry."""
    return wait_s / 2 + random.uniform(0, wait_s / 2)


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date; rare enough that the ordinary backoff will do
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _is_timeout(error: BaseException) -> bool:
    # urllib wraps a connect timeout in URLError but lets a read timeout through bare.
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    return isinstance(reason, TimeoutError)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class OpenAICompatibleBackend:
    """Chat completions from an OpenAI-compatible server, one request per message, in parallel."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        concurrency: int = 8,
        timeout_s: float = 60.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        system_message: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float], float] = equal_jitter,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be at least 0, got {max_retries}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.model_name = model
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.system_message = system_message
        self._sleep = sleep
        self._jitter = jitter
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key_env is not None:
            key = os.environ.get(api_key_env)
            if not key:
                raise GenerationError(
                    f"environment variable {api_key_env} (api_key_env for {self.url}) is unset or empty"
                )
            self._headers["Authorization"] = f"Bearer {key}"

    @property
    def identity(self) -> dict[str, Any]:
        # The key and the transport settings change how the answers arrive, not what they are.
        identity = {"type": "openai", "base_url": self.base_url, "model": self.model_name}
        return with_system_message(identity, self.system_message)

    def generate(self, user_messages: Sequence[UserContent], settings: SamplingSettings) -> list[Completion]:
        if not user_messages:
            return []
        bodies = [
            build_request_body(self.model_name, m, settings, i, self.system_message)
            for i, m in enumerate(user_messages)
        ]
        abort = _Abort()
        executor = ThreadPoolExecutor(max_workers=min(self.concurrency, len(bodies)), thread_name_prefix="openai")
        futures: dict[Future[Completion], int] = {
            executor.submit(self._complete, body, abort): index for index, body in enumerate(bodies)
        }
        completions: list[Completion | None] = [None] * len(bodies)
        finished_cleanly = False
        try:
            self._collect(futures, completions, abort)
            finished_cleanly = True
        finally:
            # After a failure, raise now: queued requests are cancelled and running ones stop
            # at their next attempt instead of hammering a server that is already failing.
            if not finished_cleanly:
                abort.fail(GenerationError("generate was interrupted"))
            executor.shutdown(wait=finished_cleanly, cancel_futures=True)
        return [completion for completion in completions if completion is not None]

    def _collect(
        self, futures: dict[Future[Completion], int], completions: list[Completion | None], abort: _Abort
    ) -> None:
        total, started = len(futures), time.perf_counter()
        log_every = max(1, math.ceil(total / 10))
        for done, future in enumerate(as_completed(futures), start=1):
            error = future.exception()
            if error is not None:
                # A worker stopped by someone else's failure reports that failure, not its own stop.
                raise abort.error or error
            completions[futures[future]] = future.result()
            if done % log_every == 0 or done == total:
                rate = done / max(time.perf_counter() - started, 1e-9)
                log.info("%s: %d/%d completions (%.2f requests/s)", self.url, done, total, rate)

    def _complete(self, body: dict[str, Any], abort: _Abort) -> Completion:
        try:
            return self._complete_with_retries(body, abort)
        except BaseException as error:
            abort.fail(error)
            raise

    def _complete_with_retries(self, body: dict[str, Any], abort: _Abort) -> Completion:
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            if abort.is_set():
                raise GenerationError(f"POST {self.url} cancelled after another request failed")
            try:
                return self._post(body)
            except _AttemptError as error:
                if not error.retryable:
                    raise GenerationError(
                        f"POST {self.url} failed after {_plural(attempt, 'attempt')} (not retried): {error}"
                    ) from error
                if attempt == attempts:
                    raise GenerationError(
                        f"POST {self.url} failed after {_plural(attempt, 'attempt')}: {error}"
                    ) from error
                wait = self._wait_s(attempt, error.retry_after)
                log.warning(
                    "POST %s: %s (attempt %d of %d); retrying in %.2f s", self.url, error, attempt, attempts, wait
                )
                self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait_s(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff_s)
        return self._jitter(min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s))

    def _post(self, body: dict[str, Any]) -> Completion:
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise self._http_failure(error) from error
        except (OSError, http.client.HTTPException) as error:
            if _is_timeout(error):
                raise _AttemptError(f"timed out after {self.timeout_s:g} s", retryable=True) from error
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            raise _AttemptError(f"connection error: {reason!r}", retryable=True) from error
        try:
            return parse_response(raw)
        except MalformedResponseError as error:
            raise _AttemptError(str(error), retryable=True) from error

    @staticmethod
    def _http_failure(error: urllib.error.HTTPError) -> _AttemptError:
        try:
            text = _error_text(error.read())
        except (OSError, http.client.HTTPException):
            text = error.reason or ""
        status = error.code
        return _AttemptError(
            f"HTTP {status}: {text}",
            retryable=status in RETRYABLE_STATUSES or 500 <= status < 600,
            retry_after=_retry_after_seconds(error.headers.get("Retry-After") if error.headers else None),
        )
