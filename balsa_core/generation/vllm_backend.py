"""Generation with vLLM's offline engine: the paper-scale default (Llama-3.1-8B-Instruct writing
~400K targets), built against vLLM's documented ``LLM``/``SamplingParams`` API.

This backend is exercised on GPU machines only. vLLM ships CUDA builds, so the tests here cannot
run it; they check the engine and sampling arguments it would pass, the requests it would build
(through a recording stand-in for the ``vllm`` module), and its failure when vLLM is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from balsa_core.generation.backend import Completion, GenerationError, SamplingSettings, with_system_message
from balsa_core.prompts import chat_messages

log = logging.getLogger(__name__)

MISSING_VLLM = (
    "the vllm generation backend needs the vllm package and a CUDA GPU ({error}); "
    "on CPU use the transformers backend (generation.backends: - type: transformers)"
)


def engine_arguments(
    model_path: str,
    tensor_parallel_size: int = 1,
    max_model_len: int | None = None,
    gpu_memory_utilization: float = 0.9,
    dtype: str = "auto",
    enforce_eager: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for ``vllm.LLM``."""
    arguments: dict[str, Any] = {
        "model": model_path,
        "tensor_parallel_size": tensor_parallel_size,
        "gpu_memory_utilization": gpu_memory_utilization,
        "dtype": dtype,
        "enforce_eager": enforce_eager,
        # The backbone is a prepared local checkpoint; nothing in it should run as code.
        "trust_remote_code": False,
    }
    # Left out, vLLM takes the length from the model config, which is what we want by default.
    if max_model_len is not None:
        arguments["max_model_len"] = max_model_len
    return arguments


def sampling_arguments(settings: SamplingSettings, index: int) -> dict[str, Any]:
    """Keyword arguments for the ``vllm.SamplingParams`` of message ``index`` of a call."""
    return {
        "n": 1,
        "max_tokens": settings.max_new_tokens,
        # vLLM decodes greedily at temperature 0, the same convention as SamplingSettings.
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        # A seed per request makes each completion independent of how vLLM schedules batches.
        "seed": settings.seed + index,
    }


def completion_from_output(output: Any) -> Completion:
    """Map one ``vllm.RequestOutput`` (anything with ``outputs[0].text``, ``.token_ids`` and
    ``.finish_reason``) to a Completion."""
    best = output.outputs[0]
    # vLLM reports "stop" at end-of-turn (or a stop string) and "length" at max_tokens.
    return Completion(text=best.text.strip(), num_tokens=len(best.token_ids), finished=best.finish_reason == "stop")


def conversations(user_messages: Sequence[str], system_message: str | None = None) -> list[list[dict[str, str]]]:
    """One single-turn chat per message, so vLLM applies the model's own chat template."""
    return [chat_messages(message, system_message) for message in user_messages]


class VLLMBackend:
    """One vLLM engine per instance, so one model load per job."""

    def __init__(self, model_path: str, system_message: str | None = None, **engine_options: Any) -> None:
        """``engine_options`` are those of ``engine_arguments`` (tensor parallelism, context
        length, memory share, dtype), as the config's backend entry gives them."""
        arguments = engine_arguments(model_path, **engine_options)
        self.model_name = model_path
        self.system_message = system_message
        self.dtype = arguments["dtype"]
        self.max_model_len = arguments.get("max_model_len")
        # Imported here, not at module level, so the CPU pipeline and its tests never need vLLM.
        try:
            from vllm import LLM, SamplingParams
        except ImportError as error:
            raise GenerationError(MISSING_VLLM.format(error=error)) from error
        self._sampling_params = SamplingParams
        self.llm = LLM(**arguments)

    @property
    def identity(self) -> dict[str, Any]:
        # Tensor parallelism and memory settings change where the model runs, not what it is asked,
        # so they stay out: a shard written on one GPU layout is reused on another.
        identity = {"type": "vllm", "model": self.model_name, "dtype": self.dtype, "max_model_len": self.max_model_len}
        return with_system_message(identity, self.system_message)

    def generate(self, user_messages: Sequence[str], settings: SamplingSettings) -> list[Completion]:
        if not user_messages:
            return []
        sampling = [self._sampling_params(**sampling_arguments(settings, i)) for i in range(len(user_messages))]
        log.info("generating %d completions with vLLM", len(user_messages))
        chats = conversations(user_messages, self.system_message)
        outputs = self.llm.chat(chats, sampling_params=sampling, use_tqdm=True)
        if len(outputs) != len(user_messages):
            raise GenerationError(
                f"vLLM returned {len(outputs)} outputs for {len(user_messages)} messages ({self.model_name})"
            )
        return [completion_from_output(output) for output in outputs]
