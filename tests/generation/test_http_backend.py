import json
import logging
import socket
import threading

import pytest
from openai_server import OpenAIServer, answer_for

from balsa_core.generation.backend import Completion, GenerationError, SamplingSettings, make_backend
from balsa_core.generation.http_backend import (
    MalformedResponseError,
    OpenAICompatibleBackend,
    build_request_body,
    parse_response,
)

SETTINGS = SamplingSettings(max_new_tokens=50, temperature=0.7, top_p=0.9, seed=100)


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch):
    # An http_proxy in the environment would otherwise route 127.0.0.1 through it.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def backend_for(server: OpenAIServer, **options) -> OpenAICompatibleBackend:
    options = {"model": "judge-7b", "timeout_s": 5.0, "backoff_s": 0.01, **options}
    return OpenAICompatibleBackend(base_url=server.base_url, **options)


def test_answers_come_back_in_message_order_with_parallel_requests():
    messages = [f"clip {i} has a dog barking" for i in range(40)]
    rest_arrived = threading.Event()

    def hold_the_first_request_until_the_last_arrives(number: int) -> None:
        if number == len(messages) - 1:
            rest_arrived.set()
        if number == 0:
            rest_arrived.wait(timeout=5)

    # The other workers get through the remaining messages meanwhile, so answers arrive out of order.
    with OpenAIServer(failures=hold_the_first_request_until_the_last_arrives) as server:
        completions = backend_for(server, concurrency=8).generate(messages, SETTINGS)
    assert rest_arrived.is_set(), "eight requests were not in flight at once"
    assert [c.text for c in completions] == [answer_for(m) for m in messages]
    assert all(c.finished and c.num_tokens == len(answer_for(m).split()) for c, m in zip(completions, messages))
    assert len(server.requests) == len(messages)


def test_request_body_carries_sampling_settings_and_a_seed_per_message():
    with OpenAIServer() as server:
        backend_for(server, concurrency=3).generate(["a", "b", "c", "d"], SETTINGS)
    by_message = {body["messages"][0]["content"]: body for body in server.requests}
    assert sorted(by_message) == ["a", "b", "c", "d"]
    for index, message in enumerate("abcd"):
        body = by_message[message]
        assert body["messages"] == [{"role": "user", "content": message}]
        assert (body["model"], body["max_tokens"], body["temperature"], body["top_p"]) == ("judge-7b", 50, 0.7, 0.9)
        assert (body["seed"], body["n"]) == (100 + index, 1)


def test_a_cut_answer_is_unfinished_and_reports_its_tokens():
    long_message = "one two three four five six"  # the answer is "echo:" plus six words
    settings = SamplingSettings(max_new_tokens=4)
    with OpenAIServer() as server:
        cut, whole = backend_for(server).generate([long_message, "hi"], settings)
    assert cut == Completion(text="echo: one two three", num_tokens=4, finished=False)
    assert whole == Completion(text="echo: hi", num_tokens=2, finished=True)


def test_bearer_key_from_the_named_environment_variable_reaches_the_server(monkeypatch):
    monkeypatch.setenv("BALSA_TEST_KEY", "sk-secret")
    with OpenAIServer() as server:
        backend_for(server, api_key_env="BALSA_TEST_KEY").generate(["x"], SETTINGS)
    (headers,) = server.headers
    assert headers["Authorization"] == "Bearer sk-secret"


def test_a_named_but_unset_key_variable_fails_at_construction(monkeypatch):
    monkeypatch.delenv("BALSA_MISSING_KEY", raising=False)
    with pytest.raises(GenerationError, match="BALSA_MISSING_KEY"):
        OpenAICompatibleBackend(base_url="http://127.0.0.1:1/v1", model="m", api_key_env="BALSA_MISSING_KEY")


def test_make_backend_builds_it_from_a_config_entry_and_identity_names_the_endpoint():
    spec = {"type": "openai", "base_url": "http://127.0.0.1:8000/v1/", "model": "judge-7b", "concurrency": 2}
    backend = make_backend(spec, backbone_path="/unused/backbone")
    assert isinstance(backend, OpenAICompatibleBackend)
    assert backend.model_name == "judge-7b"
    assert backend.identity == {"type": "openai", "base_url": "http://127.0.0.1:8000/v1", "model": "judge-7b"}
    assert backend.url == "http://127.0.0.1:8000/v1/chat/completions"


def test_server_errors_are_retried_with_doubling_backoff_until_the_call_succeeds(caplog):
    sleeps = SleepRecorder()
    with OpenAIServer(failures=[500, 500, 500], retry_after=None) as server:
        backend = backend_for(server, backoff_s=0.5, max_backoff_s=1.5, sleep=sleeps, jitter=lambda wait: wait)
        with caplog.at_level(logging.WARNING, logger="balsa_core.generation.http_backend"):
            (completion,) = backend.generate(["hello"], SETTINGS)
    assert completion.text == "echo: hello"
    assert len(server.requests) == 4
    assert sleeps.calls == [0.5, 1.0, 1.5], "doubles from backoff_s, capped at max_backoff_s"
    assert (
        sum("HTTP 500" in record.getMessage() and "retrying" in record.getMessage() for record in caplog.records) == 3
    )


def test_parallel_workers_refused_together_retry_apart():
    schedules = []
    for _ in range(2):
        sleeps = SleepRecorder()
        with OpenAIServer(failures=[429, 429, 429], retry_after=None) as server:
            backend_for(server, backoff_s=0.5, max_backoff_s=1.5, sleep=sleeps).generate(["x"], SETTINGS)
        schedules.append(sleeps.calls)
    for calls in schedules:
        assert [step / 2 <= wait <= step for wait, step in zip(calls, [0.5, 1.0, 1.5])] == [True] * 3, calls
    assert schedules[0] != schedules[1], "each wait is drawn anew"


def test_500_then_503_with_real_sleeps_and_several_messages_still_succeeds():
    with OpenAIServer(failures=[500, 503]) as server:
        completions = backend_for(server, concurrency=2).generate(["a", "b", "c"], SETTINGS)
    assert [c.text for c in completions] == ["echo: a", "echo: b", "echo: c"]
    assert len(server.requests) == 5


def test_retry_after_from_the_server_replaces_the_backoff_and_is_capped():
    sleeps = SleepRecorder()
    with OpenAIServer(failures=[429], retry_after="7") as server:
        (completion,) = backend_for(server, backoff_s=0.25, sleep=sleeps).generate(["x"], SETTINGS)
    assert completion.text == "echo: x"
    assert sleeps.calls == [7.0]
    capped = SleepRecorder()
    with OpenAIServer(failures=[429, 503], retry_after="600") as server:
        backend_for(server, max_backoff_s=2.0, sleep=capped).generate(["x"], SETTINGS)
    assert capped.calls == [2.0, 2.0]


def test_a_server_that_always_fails_gives_up_after_max_retries_plus_one_attempts():
    sleeps = SleepRecorder()
    with OpenAIServer(failures=lambda number: 500) as server:
        backend = backend_for(server, max_retries=2, concurrency=1, sleep=sleeps)
        with pytest.raises(GenerationError) as raised:
            backend.generate(["a", "b", "c", "d", "e"], SETTINGS)
    message = str(raised.value)
    assert message == f"POST {server.base_url}/chat/completions failed after 3 attempts: HTTP 500: injected failure 500"
    # The first message's failure cancels the others: no request is made for b..e.
    assert [body["messages"][0]["content"] for body in server.requests] == ["a", "a", "a"]
    assert len(sleeps.calls) == 2


def test_parallel_requests_stop_after_the_first_message_fails():
    with OpenAIServer(failures=lambda number: 503, delay_s=0.01) as server:
        backend = backend_for(server, max_retries=1, concurrency=4)
        with pytest.raises(GenerationError, match="failed after 2 attempts: HTTP 503"):
            backend.generate([f"m{i}" for i in range(50)], SETTINGS)
    # At most the four workers' in-flight requests and their one retry each; not fifty messages' worth.
    assert len(server.requests) <= 8


def test_a_server_slower_than_the_timeout_is_retried_then_fails_with_a_timeout():
    with OpenAIServer(failures=lambda number: "timeout") as server:
        backend = backend_for(server, timeout_s=0.2, max_retries=1)
        with pytest.raises(GenerationError, match=r"failed after 2 attempts: timed out after 0.2 s"):
            backend.generate(["slow"], SETTINGS)
    assert len(server.requests) == 2


def test_one_timeout_then_an_answer_succeeds():
    with OpenAIServer(failures=["timeout"]) as server:
        (completion,) = backend_for(server, timeout_s=0.5).generate(["late"], SETTINGS)
    assert completion.text == "echo: late"
    assert len(server.requests) == 2


def test_a_refused_connection_is_retried_and_named():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below, so nothing listens there
    sleeps = SleepRecorder()
    backend = OpenAICompatibleBackend(
        base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=2, sleep=sleeps, jitter=lambda wait: wait
    )
    with pytest.raises(GenerationError, match=rf"127.0.0.1:{port}/v1/chat/completions failed after 3 attempts: conn"):
        backend.generate(["x"], SETTINGS)
    assert sleeps.calls == [1.0, 2.0]


def test_a_client_error_is_not_retried():
    sleeps = SleepRecorder()
    with OpenAIServer(failures=[400]) as server, pytest.raises(GenerationError) as raised:
        backend_for(server, sleep=sleeps).generate(["x"], SETTINGS)
    assert "failed after 1 attempt (not retried): HTTP 400: injected failure 400" in str(raised.value)
    assert len(server.requests) == 1
    assert sleeps.calls == []


def test_a_malformed_body_is_retried_and_then_quoted():
    with OpenAIServer(failures=["malformed"]) as server:
        (completion,) = backend_for(server).generate(["x"], SETTINGS)
    assert completion.text == "echo: x"
    assert len(server.requests) == 2
    quoted = r"after 2 attempts: malformed response body: '<html><body>502 Bad"
    with OpenAIServer(failures=lambda number: "malformed") as server, pytest.raises(GenerationError, match=quoted):
        backend_for(server, max_retries=1).generate(["x"], SETTINGS)


def test_no_messages_make_no_requests():
    with OpenAIServer() as server:
        assert backend_for(server).generate([], SETTINGS) == []
    assert server.requests == []


def test_build_request_body_is_the_openai_chat_request():
    body = build_request_body("m", "Describe the sound.", SamplingSettings(max_new_tokens=8, seed=3), index=2)
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "Describe the sound."}],
        "max_tokens": 8,
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": 5,
        "n": 1,
    }


@pytest.mark.parametrize(
    ("finish_reason", "usage", "expected"),
    [
        ("stop", {"completion_tokens": 3}, Completion("a dog", 3, True)),
        ("eos", None, Completion("a dog", None, True)),
        (None, {}, Completion("a dog", None, True)),
        ("length", {"completion_tokens": 9, "prompt_tokens": 2}, Completion("a dog", 9, False)),
    ],
)
def test_parse_response_maps_finish_reason_and_usage(finish_reason, usage, expected):
    body = {"choices": [{"message": {"role": "assistant", "content": "  a dog\n"}, "finish_reason": finish_reason}]}
    if usage is not None:
        body["usage"] = usage
    assert parse_response(json.dumps(body)) == expected
    assert parse_response(json.dumps(body).encode()) == expected


def test_parse_response_reads_null_content_as_empty():
    body = b'{"choices": [{"message": {"role": "assistant", "content": null}, "finish_reason": "stop"}]}'
    assert parse_response(body) == Completion("", None, True)


@pytest.mark.parametrize(
    "body",
    [b"<html>Bad Gateway</html>", b'{"choices": []}', b'{"error": {"message": "overloaded"}}', b"[1, 2]", b""],
)
def test_parse_response_rejects_malformed_bodies_quoting_them(body):
    with pytest.raises(MalformedResponseError, match="malformed response body") as raised:
        parse_response(body)
    assert repr(body.decode()[:20])[1:-1] in str(raised.value)


def test_a_long_malformed_body_is_quoted_only_at_its_beginning():
    with pytest.raises(MalformedResponseError) as raised:
        parse_response("x" * 10_000)
    assert "x" * 200 + "..." in str(raised.value)
    assert len(str(raised.value)) < 300
