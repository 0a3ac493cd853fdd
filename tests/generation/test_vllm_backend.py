"""The vLLM backend without vLLM: the arguments it builds, the outputs it maps, the calls it makes
(through a recording double of the ``vllm`` module) and its failure when vLLM is missing."""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

import pytest

from balsa_core.generation.backend import Completion, GenerationError, SamplingSettings
from balsa_core.generation.vllm_backend import VLLMBackend, completion_from_output, engine_arguments, sampling_arguments


def request_output(text: str, token_ids: list[int], finish_reason: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        outputs=[types.SimpleNamespace(text=text, token_ids=token_ids, finish_reason=finish_reason)]
    )


def test_engine_arguments_are_the_documented_llm_keywords():
    assert engine_arguments("/models/llama") == {
        "model": "/models/llama",
        "tensor_parallel_size": 1,
        "gpu_memory_utilization": 0.9,
        "dtype": "auto",
        "enforce_eager": False,
        "trust_remote_code": False,
    }
    custom = engine_arguments(
        "/m",
        tensor_parallel_size=4,
        max_model_len=4096,
        gpu_memory_utilization=0.8,
        dtype="bfloat16",
        enforce_eager=True,
    )
    assert custom == {
        "model": "/m",
        "tensor_parallel_size": 4,
        "max_model_len": 4096,
        "gpu_memory_utilization": 0.8,
        "dtype": "bfloat16",
        "enforce_eager": True,
        "trust_remote_code": False,
    }


def test_sampling_arguments_seed_each_message_and_keep_greedy_at_temperature_zero():
    greedy = SamplingSettings(max_new_tokens=64)
    assert sampling_arguments(greedy, 0) == {"n": 1, "max_tokens": 64, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    sampled = SamplingSettings(max_new_tokens=32, temperature=0.7, top_p=0.9, seed=10)
    assert [sampling_arguments(sampled, i)["seed"] for i in range(3)] == [10, 11, 12]
    assert sampling_arguments(sampled, 2) == {"n": 1, "max_tokens": 32, "temperature": 0.7, "top_p": 0.9, "seed": 12}


def test_completion_from_output_maps_finish_reason_strips_text_and_counts_tokens():
    stopped = completion_from_output(request_output("  A dog barks.\n", [5, 6, 7], "stop"))
    assert stopped == Completion(text="A dog barks.", num_tokens=3, finished=True)
    cut = completion_from_output(request_output("A siren wails and", [1, 2, 3, 4], "length"))
    assert cut == Completion(text="A siren wails and", num_tokens=4, finished=False)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_constructing_without_vllm_says_what_to_use_instead():
    with pytest.raises(GenerationError) as raised:
        VLLMBackend("/models/llama")
    message = str(raised.value)
    assert "vllm" in message
    assert "GPU" in message
    assert "transformers" in message


class RecordingLLM:
    """A recording double of ``vllm.LLM``: it keeps the calls this backend makes and answers with
    canned outputs. It checks the calls we make, not vLLM itself."""

    instances: list[RecordingLLM] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.chat_calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        RecordingLLM.instances.append(self)

    def chat(self, *args: Any, **kwargs: Any) -> list[types.SimpleNamespace]:
        self.chat_calls.append((args, kwargs))
        conversations = args[0]
        return [
            request_output(f" reply to {conv[0]['content']} ", [1] * (i + 1), "stop" if i % 2 == 0 else "length")
            for i, conv in enumerate(conversations)
        ]


class RecordingSamplingParams:
    """A recording double of ``vllm.SamplingParams`` that keeps its keyword arguments."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


@pytest.fixture
def fake_vllm(monkeypatch):
    RecordingLLM.instances = []
    fake = types.ModuleType("vllm")
    fake.LLM = RecordingLLM
    fake.SamplingParams = RecordingSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", fake)
    return fake


def test_generate_sends_one_chat_per_message_with_per_message_sampling(fake_vllm):
    backend = VLLMBackend("/models/llama", max_model_len=2048, dtype="bfloat16")
    messages = ["first", "second", "third"]
    settings = SamplingSettings(max_new_tokens=16, temperature=0.5, top_p=0.95, seed=7)

    completions = backend.generate(messages, settings)
    backend.generate(messages[:1], settings)

    assert len(RecordingLLM.instances) == 1, "one engine (one model load) per backend"
    llm = RecordingLLM.instances[0]
    assert llm.kwargs == engine_arguments("/models/llama", max_model_len=2048, dtype="bfloat16")

    args, kwargs = llm.chat_calls[0]
    assert args == ([[{"role": "user", "content": m}] for m in messages],)
    assert kwargs["use_tqdm"] is True
    assert [params.kwargs for params in kwargs["sampling_params"]] == [
        {"n": 1, "max_tokens": 16, "temperature": 0.5, "top_p": 0.95, "seed": 7 + i} for i in range(3)
    ]
    assert completions == [
        Completion(text="reply to first", num_tokens=1, finished=True),
        Completion(text="reply to second", num_tokens=2, finished=False),
        Completion(text="reply to third", num_tokens=3, finished=True),
    ]
    assert backend.identity == {"type": "vllm", "model": "/models/llama", "dtype": "bfloat16", "max_model_len": 2048}


def test_generate_rejects_a_missing_output(fake_vllm, monkeypatch):
    backend = VLLMBackend("/models/llama")
    monkeypatch.setattr(backend.llm, "chat", lambda *args, **kwargs: [request_output("only one", [1], "stop")])
    with pytest.raises(GenerationError, match="1 outputs for 2 messages"):
        backend.generate(["a", "b"], SamplingSettings(max_new_tokens=4))
