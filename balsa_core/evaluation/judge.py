"""The LLM judge of Speech-IFEval's chain-of-thought items, through an OpenAI-compatible server.

Speech-IFEval asks a judge model (GPT-4o in the release) whether each reply to a "think step by
step" instruction shows reasoning (breaking the problem down, intermediate steps, analysis)
rather than a bare answer, and reads its verdict from a closing "Result: YES" or "Result: NO".
A verdict the judge does not state counts as not followed, as a reply that cannot be read does
everywhere else in the suite. Without a configured judge (``evaluation.judge``), the judged items
are not asked at all and the tables leave the open-ended rate empty with a note.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict

import pandas as pd

from balsa_core.generation.backend import SamplingSettings
from balsa_core.generation.http_backend import OpenAICompatibleBackend
from balsa_core.settings import Judge

log = logging.getLogger(__name__)

JUDGE_SYSTEM_MESSAGE = (
    "You are given a user's request and a model's reply to it. Decide whether the reply shows "
    "reasoning: breaking the problem down, explaining intermediate steps or analysing it, rather "
    "than only stating an answer. Reply YES if it goes beyond a direct answer, NO if it is a minimal "
    'or purely factual reply. End with "Result: YES" or "Result: NO".'
)
_VERDICT = re.compile(r"result:\s*(yes|no)\b", re.IGNORECASE)


def needs_judge(items: pd.DataFrame) -> pd.Series:
    """Which items only a judge can score (Speech-IFEval's chain-of-thought)."""
    if "judged" not in items.columns:
        return pd.Series(False, index=items.index)
    return items["judged"].fillna(False).astype(bool)


def judge_message(instruction: str, reply: str | None) -> str:
    return f"User request: {instruction}\nModel's reply: {reply or ''}"


def parse_verdict(text: str) -> bool:
    """The judge's last stated verdict; none stated is a NO."""
    verdicts = _VERDICT.findall(text)
    return bool(verdicts) and verdicts[-1].lower() == "yes"


def judge_backend(judge: Judge) -> OpenAICompatibleBackend:
    # Every field of Judge but max_new_tokens, which each request samples with, is the backend's own.
    connection = {name: value for name, value in asdict(judge).items() if name != "max_new_tokens"}
    return OpenAICompatibleBackend(**connection, system_message=JUDGE_SYSTEM_MESSAGE)


def judge_verdicts(items: pd.DataFrame, replies: Sequence[str | None], judge: Judge | None) -> list[bool | None]:
    """Each item's verdict, aligned with ``items``: None for items the judge does not score.
    Greedy decoding keeps the verdicts reproducible for a given judge model."""
    judged = needs_judge(items).to_numpy()
    verdicts: list[bool | None] = [None] * len(items)
    if not judged.any():
        return verdicts
    if judge is None:
        raise ValueError(f"{int(judged.sum())} item(s) need an LLM judge but evaluation.judge is not set")
    positions = [position for position, flag in enumerate(judged) if flag]
    messages = [judge_message(str(items["question"].iloc[p]), replies[p]) for p in positions]
    completions = judge_backend(judge).generate(messages, SamplingSettings(max_new_tokens=judge.max_new_tokens))
    stated = 0
    for position, completion in zip(positions, completions, strict=True):
        verdicts[position] = parse_verdict(completion.text)
        stated += bool(_VERDICT.search(completion.text))
    if stated < len(positions):
        unstated = len(positions) - stated
        log.warning("judge %s: %d of %d verdicts unstated, counted as NO", judge.model, unstated, len(positions))
    return verdicts
