"""Ask prepared evaluation prompts, through the audio model or to the backbone with text.

Both ask with greedy decoding. The audio model hears the clip's cached encoder features in
the audio span; the text-only backbone reads a description of the clip (its tags or caption)
in the same span, which makes it the text ceiling an adapter standing in for that text could
reach, and the reference the instruction-following forgetting rate is measured against.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from balsa_core.audio_llm import AudioLLM, Example
from balsa_core.features import FeatureStore
from balsa_core.generation import GenerationBackend, SamplingSettings
from balsa_core.prompts import PromptTemplate

log = logging.getLogger(__name__)


def answer_with_audio(
    model: AudioLLM,
    clip_ids: Sequence[str],
    prompts: Sequence[str],
    store: FeatureStore,
    batch_size: int,
    max_new_tokens: int,
) -> list[str]:
    if len(clip_ids) != len(prompts):
        raise ValueError(f"{len(clip_ids)} clips for {len(prompts)} prompts")
    replies: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(prompts), batch_size):
        examples = [
            Example(features=[store.get(clip_id)], instruction=prompt)
            for clip_id, prompt in zip(clip_ids[start : start + batch_size], prompts[start : start + batch_size])
        ]
        replies += model.generate_batch(examples, max_new_tokens=max_new_tokens)
        rate = len(replies) / (time.perf_counter() - started)
        log.info("answered %d/%d (%.2f prompts/s)", len(replies), len(prompts), rate)
    return replies


def answer_with_text(
    backend: GenerationBackend,
    template: PromptTemplate,
    descriptions: Sequence[str],
    prompts: Sequence[str],
    max_new_tokens: int,
) -> list[str]:
    """The description of each clip stands where its audio would be."""
    if len(descriptions) != len(prompts):
        raise ValueError(f"{len(descriptions)} descriptions for {len(prompts)} prompts")
    messages = [template.user_message([description], prompt) for description, prompt in zip(descriptions, prompts)]
    completions = backend.generate(messages, SamplingSettings(max_new_tokens=max_new_tokens, temperature=0.0))
    return [completion.text for completion in completions]
