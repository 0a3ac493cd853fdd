"""The one interface every generation backend implements, and the factory that builds them.

A backend takes user messages (Equation 1 prompts, the seed text already inside) and returns
one completion per message, in order. It renders the chat template itself, with the configured
system message (``prompts.chat_messages``), so the same messages give the same prompts whether
the backbone runs in transformers, in vLLM or behind an OpenAI-compatible server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class GenerationError(RuntimeError):
    """Generation could not finish; the message names what failed (a shard, a server)."""


@dataclass(frozen=True)
class SamplingSettings:
    max_new_tokens: int
    temperature: float = 0.0  # 0 means greedy decoding
    top_p: float = 1.0
    seed: int = 0  # message i of a call is sampled with seed + i where the backend allows it


@dataclass(frozen=True)
class Completion:
    text: str
    num_tokens: int | None  # None when the backend does not report it
    finished: bool  # ended at end-of-turn rather than at max_new_tokens


class GenerationBackend(Protocol):
    model_name: str

    @property
    def identity(self) -> dict[str, Any]:
        """What the completions depend on besides the messages and sampling settings: a
        finished shard is reused only when this is unchanged."""
        ...

    def generate(self, user_messages: Sequence[str], settings: SamplingSettings) -> list[Completion]: ...


BACKEND_TYPES = ("transformers", "vllm", "openai")


def with_system_message(identity: dict[str, Any], system_message: str | None) -> dict[str, Any]:
    """A backend's identity with the system message it renders. The chat template's own (None)
    adds nothing, so shards written before the setting existed stay valid."""
    return identity if system_message is None else {**identity, "system_message": system_message}


def make_backend(spec: Mapping[str, Any], backbone_path: str, system_message: str | None = None) -> GenerationBackend:
    """Build the backend a ``generation.backends`` entry describes.

    ``backbone_path`` is the prepared backbone LLM (the model BALSa asks); the OpenAI-compatible
    backend talks to the model its entry names instead, for the external-LLM ablation.
    ``system_message`` is ``prompts.system_message`` (see ``PromptTemplate``).
    """
    options = {key: value for key, value in spec.items() if key != "type"}
    options["system_message"] = system_message
    kind = spec["type"]
    if kind == "transformers":
        from balsa_core.generation.transformers_backend import TransformersBackend

        return TransformersBackend(backbone_path, **options)
    if kind == "vllm":
        from balsa_core.generation.vllm_backend import VLLMBackend

        return VLLMBackend(backbone_path, **options)
    if kind == "openai":
        from balsa_core.generation.http_backend import OpenAICompatibleBackend

        return OpenAICompatibleBackend(**options)
    raise ValueError(f"unknown generation backend type {kind!r}; known: {', '.join(BACKEND_TYPES)}")
