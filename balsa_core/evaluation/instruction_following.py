"""Closed-ended instruction following (Speech-IFEval style): format constraints, IF rate and forgetting rate.

The journal paper evaluates instruction following with Speech-IFEval [12]: closed-ended questions carry a
rule-checkable format constraint appended to a base prompt, and the same items are asked to the audio model
(ALLM) and to its text-only backbone LLM. It reports the instruction-following rate (IFrate, % of responses
satisfying their constraint) and the forgetting rate Δ, "the relative IFrate difference between ALLMs and their
LLM counterpart".

Constraints follow IFEval's checkers (lowercase, capitals, bullets, quotation, keywords, commas, end phrase,
JSON, length, start phrase). A constraint is a :class:`Constraint` (kind + parameters); ``KINDS`` registers each
kind's instruction template, its checker and how its parameters are drawn. An empty or whitespace-only response
(or a non-string such as ``None``/NaN) never satisfies a constraint. Checkers never raise.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

ITEM_COLUMNS = ["item_id", "base_prompt", "constraint_kind", "constraint", "prompt"]

_BULLET = re.compile(r"^[ \t]*[*-][ \t]+\S", re.MULTILINE)
_FENCE = re.compile(r"^```(?:json|JSON)?\s*(.*?)\s*```$", re.DOTALL)


def _word_re(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)


def _is_json_object(text: str) -> bool:
    text = text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


def _end_phrase(text: str, phrase: str) -> bool:
    return text.strip().strip('"').strip().lower().endswith(phrase.strip().lower())


@dataclass(frozen=True)
class ConstraintKind:
    """A registered constraint type: instruction template, checker and parameter sampler."""

    name: str
    template: str
    checker: Callable[[str, Mapping[str, Any]], bool]
    sample: Callable[[random.Random], dict[str, Any]] = lambda rng: {}


KINDS: dict[str, ConstraintKind] = {
    k.name: k
    for k in (
        ConstraintKind(
            "lowercase",
            "Your entire response should be in English, and in all lowercase letters. No capital letters are allowed.",
            lambda r, p: r.islower(),
        ),
        ConstraintKind(
            "uppercase",
            "Your entire response should be in English, and in all capital letters.",
            lambda r, p: r.isupper(),
        ),
        ConstraintKind(
            "bullet_points",
            "Your answer must contain exactly {n} bullet points. Use the markdown bullet points such as:\n"
            "* This is point 1.\n* This is point 2",
            lambda r, p: len(_BULLET.findall(r)) == p["n"],
            lambda rng: {"n": rng.randint(2, 5)},
        ),
        ConstraintKind(
            "quotation",
            "Wrap your entire response with double quotation marks.",
            lambda r, p: len(r.strip()) > 1 and r.strip()[0] == '"' and r.strip()[-1] == '"',
        ),
        ConstraintKind(
            "include_keyword",
            'Include the keyword "{keyword}" in your response.',
            lambda r, p: _word_re(p["keyword"]).search(r) is not None,
            lambda rng: {"keyword": rng.choice(["audio", "sound", "clearly", "background", "listener"])},
        ),
        ConstraintKind(
            "forbidden_word",
            'Do not include the word "{word}" in your response.',
            lambda r, p: _word_re(p["word"]).search(r) is None,
            lambda rng: {"word": rng.choice(["sound", "audio", "hear", "very"])},
        ),
        ConstraintKind(
            "no_comma",
            "In your entire response, refrain from the use of any commas.",
            lambda r, p: "," not in r and "\uff0c" not in r,
        ),
        ConstraintKind(
            "end_phrase",
            'Finish your response with this exact phrase "{phrase}". No other words should follow this phrase.',
            lambda r, p: _end_phrase(r, p["phrase"]),
            lambda rng: {
                "phrase": rng.choice(["Is there anything else I can help with?", "Hope this helps.", "That is all."])
            },
        ),
        ConstraintKind(
            "json_format",
            "Entire output should be wrapped in JSON format. You can use markdown ticks such as ```.",
            lambda r, p: _is_json_object(r),
        ),
        ConstraintKind(
            "max_words",
            "Answer with at most {n} words.",
            lambda r, p: len(r.split()) <= p["n"],
            lambda rng: {"n": rng.choice([10, 20, 30, 50])},
        ),
        ConstraintKind(
            "start_with",
            'Start your response with "{prefix}".',
            lambda r, p: r.lstrip().startswith(p["prefix"]),
            lambda rng: {"prefix": "Answer:"},
        ),
    )
}


@dataclass(frozen=True)
class Constraint:
    """One format constraint: a registered ``kind`` and its parameters (sorted key/value pairs, hashable)."""

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown constraint kind {self.kind!r}; known: {sorted(KINDS)}")
        object.__setattr__(self, "params", tuple(sorted(dict(self.params).items())))

    @classmethod
    def make(cls, kind: str, **params: Any) -> Constraint:
        return cls(kind, tuple(params.items()))

    @classmethod
    def from_json(cls, kind: str, params_json: str) -> Constraint:
        return cls(kind, tuple(json.loads(params_json or "{}").items()))

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.params)

    def to_json(self) -> str:
        return json.dumps(self.parameters, sort_keys=True)

    @property
    def instruction(self) -> str:
        return KINDS[self.kind].template.format(**self.parameters)

    def check(self, response: object) -> bool:
        """True iff ``response`` satisfies the constraint; non-strings and blank strings fail."""
        if not isinstance(response, str) or not response.strip():
            return False
        return bool(KINDS[self.kind].checker(response, self.parameters))


def build_if_items(
    base_prompts: Sequence[str], kinds: Sequence[str] | None = None, per_prompt: int = 1, seed: int = 0
) -> pd.DataFrame:
    """Pair every base prompt with ``per_prompt`` distinct constraint kinds (drawn from ``kinds``, default all).

    Parameters of each constraint are drawn too; the result depends only on the inputs and ``seed``.
    ``prompt`` is the base prompt followed by the constraint's instruction.
    """
    kinds = list(KINDS) if kinds is None else list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown constraint kinds {unknown}; known: {sorted(KINDS)}")
    if not 1 <= per_prompt <= len(kinds):
        raise ValueError(f"per_prompt must be in [1, {len(kinds)}], got {per_prompt}")
    rng = random.Random(seed)
    rows = []
    for i, base in enumerate(base_prompts):
        for j, kind in enumerate(rng.sample(kinds, per_prompt)):
            c = Constraint.make(kind, **KINDS[kind].sample(rng))
            rows.append((f"if-{i:05d}-{j}", base, kind, c.to_json(), f"{base.rstrip()} {c.instruction}"))
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def check_items(items: pd.DataFrame, responses: Mapping[str, str | None] | Sequence[str | None]) -> list[bool]:
    """Per-item pass/fail. ``responses`` maps item_id to response, or is aligned with the rows of ``items``.

    A missing item_id, ``None`` or any non-string response is a failure.
    """
    if isinstance(responses, Mapping):
        answers = [responses.get(i) for i in items["item_id"]]
    else:
        answers = list(responses)
        if len(answers) != len(items):
            raise ValueError(f"{len(answers)} responses for {len(items)} items")
    return [
        Constraint.from_json(kind, params).check(answer)
        for kind, params, answer in zip(items["constraint_kind"], items["constraint"], answers, strict=True)
    ]


def if_rate(items: pd.DataFrame, responses: Mapping[str, str | None] | Sequence[str | None]) -> float:
    """Instruction-following rate: % of items whose response satisfies its constraint (NaN for no items)."""
    passed = check_items(items, responses)
    return 100.0 * sum(passed) / len(passed) if passed else math.nan


def forgetting_rate(audio_if_rate: float, text_if_rate: float) -> float:
    """Forgetting rate Δ = (audio − text) / text × 100, the paper's sign convention.

    The paper defines Δ as "the relative IFrate difference between ALLMs and their LLM counterpart", and its
    tables report it as ALLM minus backbone: **negative means the audio model forgot** (e.g. BALSa-OpenAQA,
    IFrate 89.37, Δ = −1.82; the rule-based template, IFrate 14.63, Δ = −83.93; both with a backbone IFrate of
    ≈91.04). A "smaller forgetting rate" in the text means a smaller magnitude. Use ``-forgetting_rate(...)``,
    i.e. (text − audio) / text × 100, for a positive-means-forgot value. Returns NaN when the text rate is 0
    (relative difference undefined) or either input is NaN.
    """
    if math.isnan(audio_if_rate) or math.isnan(text_if_rate) or text_if_rate == 0:
        return math.nan
    return (audio_if_rate - text_if_rate) / text_if_rate * 100.0
