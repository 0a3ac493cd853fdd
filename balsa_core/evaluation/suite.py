"""The evaluation suite of the papers' Tables IV and V: which evaluations exist, how their items
are asked, how replies are scored, and which metric fills which table column.

An evaluation's items (``ITEM_COLUMNS`` of the loaders, plus ``clip_id`` and ``description``)
become prompts with :func:`prepare_items`: multiple-choice options are shuffled with a fixed
seed and lettered, and each question type gets its answer instruction. :func:`score_replies`
reads each reply back (yes/no, option letter or text, open word, a format constraint, or
Speech-IFEval's rules and an LLM judge's verdicts) and
:func:`evaluation_metrics` turns the scored items into percentages (scikit-learn's definitions,
``metrics.py``), over all items and per subset; :func:`item_scorer` scores any selection of them,
for the tables' bootstrap intervals. A reply the parser cannot read is wrong and is also counted
as ``unparsed``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from balsa_core.evaluation.ifeval_rules import follows_rules
from balsa_core.evaluation.instruction_following import Constraint
from balsa_core.evaluation.metrics import ItemScorer, class_scorer, rate_scorer
from balsa_core.evaluation.registry import Column
from balsa_core.evaluation.replies import (
    OPTION_LETTERS,
    format_options,
    parse_open,
    parse_option,
    parse_yes_no,
    shuffle_options,
)

INSTRUCTION = "instruction"  # the question type of instruction-following items
CLOSED = "closed"  # the closed-ended part of Speech-IFEval (its items' ``part``; the rest is "open")


@dataclass(frozen=True)
class AnswerInstructions:
    """Text appended to each question type's prompt (empty: the bare question, as the papers ask)."""

    yes_no: str = ""
    multiple_choice: str = ""
    open: str = ""

    def for_type(self, question_type: str) -> str:
        return {"yes_no": self.yes_no, "multiple_choice": self.multiple_choice, "open": self.open}.get(
            question_type, ""
        )


def prepare_items(items: pd.DataFrame, instructions: AnswerInstructions, shuffle_seed: int) -> pd.DataFrame:
    """Add ``options`` (shuffled choices), ``gold`` (option letter, yes/no or open answer) and ``prompt``.

    Instruction-following items (question_type ``instruction``) are asked as they are; their
    gold is the constraint they must satisfy.
    """
    options, golds, prompts = [], [], []
    for item in items.itertuples(index=False):
        # Released questions may carry stray line breaks; an instruction item's constraint text
        # is kept verbatim (its bullet example is laid out on lines).
        question = str(item.question) if item.question_type == INSTRUCTION else " ".join(str(item.question).split())
        if item.question_type == "multiple_choice":
            shuffled, letter = shuffle_options(list(item.choices), item.answer, shuffle_seed, item.item_id)
            body = f"{question}\n{format_options(shuffled)}"
            options.append(shuffled)
            golds.append(letter)
        else:
            body = question
            options.append([])
            golds.append(str(item.answer))
        instruction = instructions.for_type(item.question_type)
        prompts.append(f"{body}\n{instruction}" if instruction else body)
    return items.assign(options=options, gold=golds, prompt=prompts)


def score_replies(
    items: pd.DataFrame, replies: Sequence[str | None], verdicts: Sequence[bool | None] | None = None
) -> pd.DataFrame:
    """The prepared items with ``reply``, ``parsed`` (None when unreadable) and ``correct``.

    ``verdicts`` are an LLM judge's, aligned with the items: whether each judged instruction item
    (Speech-IFEval's ``judged``) was followed (see ``evaluation.judge``); None for the others.
    """
    if len(replies) != len(items):
        raise ValueError(f"{len(replies)} replies for {len(items)} items")
    verdicts = [None] * len(items) if verdicts is None else list(verdicts)
    if len(verdicts) != len(items):
        raise ValueError(f"{len(verdicts)} judge verdicts for {len(items)} items")
    parsed, correct = [], []
    for item, reply, verdict in zip(items.itertuples(index=False), replies, verdicts):
        kind = item.question_type
        if kind == "yes_no":
            answer = parse_yes_no(reply)
        elif kind == "multiple_choice":
            index = parse_option(reply, list(item.options))
            answer = None if index is None else str(item.options[index])
        elif kind == "open":
            answer = str(item.gold) if parse_open(reply, item.gold) else ""
        elif kind == INSTRUCTION:
            answer = "followed" if _followed(item, reply, verdict) else ""
        else:
            raise ValueError(f"item {item.item_id!r}: unknown question type {kind!r}")
        parsed.append(answer)
        correct.append(answer is not None and answer == _gold_text(item))
    return items.assign(reply=list(replies), parsed=parsed, correct=correct)


def _followed(item, reply: str | None, verdict: bool | None) -> bool:
    """Whether an instruction item's reply follows it: by the judge's verdict, by Speech-IFEval's
    rules, or by the home-made format constraint."""
    if getattr(item, "judged", False):
        if verdict is None:
            raise ValueError(f"item {item.item_id!r}: judged by an LLM, but no verdict was given")
        return verdict
    if getattr(item, "rules", ""):
        rules = json.loads(item.rules)
        return follows_rules(reply, rules["instruction_id_list"], rules["kwargs"])
    return Constraint.from_json(item.constraint_kind, item.constraint).check(reply)


def _gold_text(item) -> str:
    if item.question_type == "multiple_choice":
        return _gold_option(item.options, item.gold)
    if item.question_type == INSTRUCTION:
        return "followed"
    return str(item.gold)


def _gold_option(options: Sequence[str], letter: str) -> str:
    """The text of the correct option, as the letter ``prepare_items`` gave it points at: the
    answer may name its choice loosely or by index, which ``shuffle_options`` accepts."""
    return str(options[OPTION_LETTERS.index(letter)])


def evaluation_metrics(scored: pd.DataFrame) -> dict[str, object]:
    """Metrics over all scored items (``overall``) and per non-empty subset (``subsets``)."""
    subsets = {subset: _metrics(group) for subset, group in subset_groups(scored).items()}
    return {"overall": _metrics(scored), "subsets": subsets}


def subset_groups(scored: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The scored items of each non-empty subset, when there are several subsets (else none)."""
    return {
        str(subset): group
        for subset, group in scored.groupby("subset", sort=True)
        if str(subset) and scored["subset"].nunique() > 1
    }


def _metrics(scored: pd.DataFrame) -> dict[str, float]:
    return {} if scored.empty else item_scorer(scored)(np.arange(len(scored)))


def item_scorer(scored: pd.DataFrame) -> ItemScorer:
    """Scores any selection of the scored items by position (the tables' bootstrap resamples
    them): accuracy and unparsed share always; the class metrics when every item has the same
    closed answer set (yes/no, or options: each distinct option text is a class)."""
    kinds = set(scored["question_type"])
    if kinds == {INSTRUCTION} and "part" in scored.columns:
        return PartsScorer(scored["correct"].to_numpy(dtype=float), (scored["part"] == CLOSED).to_numpy())
    if kinds == {INSTRUCTION}:
        return rate_scorer({"if_rate": scored["correct"]})
    parsed = [None if _unreadable(value) else value for value in scored["parsed"]]
    if kinds == {"yes_no"}:
        return class_scorer(list(scored["gold"]), parsed, ["yes", "no"])
    if kinds == {"multiple_choice"}:
        classes = sorted({str(option) for options in scored["options"] for option in options})
        return class_scorer(gold_answers(scored), parsed, classes)
    closed = scored["question_type"].isin(["yes_no", "multiple_choice"])
    unparsed = [value is None and is_closed for value, is_closed in zip(parsed, closed)]
    return rate_scorer({"acc": scored["correct"], "unparsed": unparsed})


@dataclass(frozen=True)
class PartsScorer:
    """Speech-IFEval's rates: ``if_close`` over the closed-ended items, ``if_open`` over the
    open-ended ones, and ``if_rate`` their mean (the BALSa journal's IFRate); a part with no
    items in a selection scores NaN, and ``if_rate`` is then the other part's rate."""

    followed: np.ndarray
    closed: np.ndarray

    def __call__(self, indices: np.ndarray) -> dict[str, float]:
        followed, closed = self.followed[indices], self.closed[indices]
        scores = {}
        for name, part, present in (("if_close", closed, self.closed), ("if_open", ~closed, ~self.closed)):
            if present.any():
                scores[name] = 100.0 * float(followed[part].mean()) if part.any() else math.nan
        measured = [value for value in scores.values() if not math.isnan(value)]
        scores["if_rate"] = float(np.mean(measured)) if measured else math.nan
        return scores

    def per_item(self, metric: str) -> np.ndarray | None:
        # No rate here is the mean over every item: if_rate weighs the two parts equally.
        return None


def gold_answers(scored: pd.DataFrame) -> list[str]:
    """Each item's right answer as a parsed reply gives it (a multiple-choice item's option text)."""
    return [_gold_text(item) for item in scored.itertuples(index=False)]


def _unreadable(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def metric_value(metrics: Mapping[str, object], column: Column) -> float | None:
    """The column's value from an evaluation's metrics, or None when it was not measured."""
    scope = metrics.get("overall", {}) if column.subset is None else metrics.get("subsets", {}).get(column.subset, {})
    value = scope.get(column.metric) if isinstance(scope, Mapping) else None
    return None if value is None else float(value)
