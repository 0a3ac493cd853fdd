"""Ask yes/no probing questions, through the audio model or to the backbone with text."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import pandas as pd

from balsa_core.audio_llm import AudioLLM, Example
from balsa_core.evaluation.answers import parse_yes_no
from balsa_core.evaluation.metrics import yes_no_metrics
from balsa_core.features import FeatureStore
from balsa_core.generation import GenerationBackend, SamplingSettings
from balsa_core.prompts import PromptTemplate

log = logging.getLogger(__name__)


def with_instruction(question: str, answer_instruction: str) -> str:
    return f"{question} {answer_instruction}".strip()


def answer_with_audio(
    model: AudioLLM,
    items: pd.DataFrame,
    store: FeatureStore,
    batch_size: int,
    max_new_tokens: int,
    answer_instruction: str = "",
) -> list[str]:
    answers: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(items), batch_size):
        batch = items.iloc[start : start + batch_size]
        examples = [
            Example(features=[store.get(clip_id)], instruction=with_instruction(question, answer_instruction))
            for clip_id, question in zip(batch["clip_id"], batch["question"])
        ]
        answers += model.generate_batch(examples, max_new_tokens=max_new_tokens)
        log.info(
            "answered %d/%d (%.2f questions/s)",
            len(answers),
            len(items),
            len(answers) / (time.perf_counter() - started),
        )
    return answers


def answer_with_text(
    backend: GenerationBackend,
    template: PromptTemplate,
    items: pd.DataFrame,
    max_new_tokens: int,
    answer_instruction: str = "",
) -> list[str]:
    """The text ceiling: the clip's true tags stand where the audio would be."""
    messages = [
        template.user_message([", ".join(tags)], with_instruction(question, answer_instruction))
        for tags, question in zip(items["tags"], items["question"])
    ]
    completions = backend.generate(messages, SamplingSettings(max_new_tokens=max_new_tokens, temperature=0.0))
    return [completion.text for completion in completions]


def score_answers(items: pd.DataFrame, answers: Sequence[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    scored = items.assign(answer=list(answers))
    scored["parsed"] = scored["answer"].map(parse_yes_no)
    scored["correct"] = scored["parsed"] == scored["label"]
    predictions = [None if pd.isna(p) else p for p in scored["parsed"]]
    return scored, yes_no_metrics(list(scored["label"]), predictions)
