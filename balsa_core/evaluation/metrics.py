"""Classification metrics of the evaluation tables, in percent as the papers report them.

A prediction of None (a reply the parser could not read, or NaN once parsed answers went
through a CSV file) is scored as a third, "unparsed" class that no gold label carries: it
is a miss for its true class and a false positive for no class, so it lowers accuracy and
recall but no precision, and it is also reported on its own as the ``unparsed`` share.

The metrics come from one confusion count per call, with scikit-learn's definitions
(``precision_recall_fscore_support`` with ``zero_division=0``, which the tests compare them
with): a scorer holds the encoded items once and scores any selection of them by index, so
the thousand resamples of a bootstrap interval (``intervals.py``) cost a bincount each rather
than a thousand rounds of scikit-learn's input checks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

ANSWER_LABELS = ["yes", "no"]
# The name of the class an unparsed reply is scored as, in messages and tables.
UNPARSED = "unparsed"
_UNPARSED_CODE = -1


class ItemScorer(Protocol):
    """Scores any selection of one evaluation's items (an array of their positions, repeats allowed)."""

    def __call__(self, indices: np.ndarray) -> dict[str, float]: ...

    def per_item(self, metric: str) -> np.ndarray | None:
        """Each item's 0/1 score when ``metric`` is their mean (in percent), else None."""
        ...


@dataclass(frozen=True)
class ClassScorer:
    """Items with a closed answer set: gold and predicted class codes (-1: unparsed)."""

    labels: tuple[Hashable, ...]
    truth: np.ndarray
    guess: np.ndarray

    def __call__(self, indices: np.ndarray) -> dict[str, float]:
        classes = len(self.labels)
        # Unparsed replies are counted in an extra column: a miss for the item's class, a hit for none.
        guess = np.where(self.guess[indices] == _UNPARSED_CODE, classes, self.guess[indices])
        confusion = np.bincount(self.truth[indices] * (classes + 1) + guess, minlength=classes * (classes + 1)).reshape(
            classes, classes + 1
        )
        return _confusion_scores(confusion, self.labels)

    def per_item(self, metric: str) -> np.ndarray | None:
        if metric == "acc":
            return (self.truth == self.guess).astype(float)
        if metric == "unparsed":
            return (self.guess == _UNPARSED_CODE).astype(float)
        if metric == "yes_rate" and "yes" in self.labels:
            return (self.guess == self.labels.index("yes")).astype(float)
        return None


@dataclass(frozen=True)
class RateScorer:
    """Metrics that are each the share of items with a 0/1 score (e.g. ``acc`` from ``correct``)."""

    scores: Mapping[str, np.ndarray]

    def __call__(self, indices: np.ndarray) -> dict[str, float]:
        return {metric: 100.0 * float(np.mean(values[indices])) for metric, values in self.scores.items()}

    def per_item(self, metric: str) -> np.ndarray | None:
        return self.scores.get(metric)


def rate_scorer(scores: Mapping[str, Sequence[bool]]) -> RateScorer:
    """A scorer of the share of items scoring 1 under each name."""
    return RateScorer({metric: np.asarray(values, dtype=float) for metric, values in scores.items()})


def classification_metrics(
    gold: Sequence[Hashable], predicted: Sequence[Hashable | None], labels: Sequence[Hashable]
) -> dict[str, float]:
    """Accuracy, per-class and weighted precision/recall/F1, unparsed share, in percent.

    ``labels`` are the answer classes (e.g. ["yes", "no"], option letters or option
    indices); every gold label must be one of them, every prediction one of them or
    None/NaN (unparsed). Keys: ``acc``; ``precision_<label>``, ``recall_<label>`` and
    ``f1_<label>`` for each label; ``precision_weighted``, ``recall_weighted`` and
    ``f1_weighted`` (averaged with the gold support of each label as weight);
    ``unparsed`` (share of None predictions); and, when "yes" is a label, ``yes_rate``
    (share of predictions that are "yes", the papers' measure of a yes bias). A class
    with no predictions has precision 0, one with no gold items recall 0.
    """
    scorer = class_scorer(gold, predicted, labels, caller="classification_metrics")
    return scorer(np.arange(len(scorer.truth)))


def yes_no_metrics(labels: Sequence[str], predictions: Sequence[str | None]) -> dict[str, float]:
    """acc, f1_yes, f1_no, f1_weighted, yes_rate and unparsed, all in percent (0..100)."""
    # Tables written before the parser returned None spell an unparsed reply out.
    predicted = [None if isinstance(p, str) and p == UNPARSED else p for p in predictions]
    scorer = class_scorer(labels, predicted, ANSWER_LABELS, caller="yes_no_metrics")
    scores = scorer(np.arange(len(scorer.truth)))
    return {key: scores[key] for key in ("acc", "f1_yes", "f1_no", "f1_weighted", "yes_rate", "unparsed")}


def class_scorer(
    gold: Sequence[Hashable],
    predicted: Sequence[Hashable | None],
    labels: Sequence[Hashable],
    caller: str = "class_scorer",
) -> ClassScorer:
    """The items encoded once, for :func:`classification_metrics` on any selection of them;
    ``caller`` names the function in error messages."""
    classes = list(labels)
    if not classes:
        raise ValueError(f"{caller}: no answer classes given")
    try:
        codes = {label: code for code, label in enumerate(classes)}
    except TypeError as error:
        raise ValueError(f"{caller}: answer classes must be hashable") from error
    if len(codes) != len(classes):
        raise ValueError(f"{caller}: answer classes repeat: {classes}")
    truth_values = list(gold)
    if not truth_values:
        raise ValueError(f"{caller}: no labels given")
    predicted_values = list(predicted)
    if len(predicted_values) != len(truth_values):
        raise ValueError(f"{caller}: {len(truth_values)} labels but {len(predicted_values)} predictions")
    truth = _encoded(truth_values, codes, allow_missing=False)
    if truth is None:
        raise ValueError(f"{caller}: labels must be one of {classes}, got {_unknown(truth_values, codes)}")
    guess = _encoded(predicted_values, codes, allow_missing=True)
    if guess is None:
        unknown = _unknown([p for p in predicted_values if not _missing(p)], codes)
        raise ValueError(f"{caller}: predictions must be one of {classes} or None, got {unknown}")
    return ClassScorer(tuple(classes), truth, guess)


def _confusion_scores(confusion: np.ndarray, labels: tuple[Hashable, ...]) -> dict[str, float]:
    """Metrics from counts[gold class, predicted class], the last column counting unparsed replies."""
    total = confusion.sum()
    hits = np.diag(confusion[:, :-1]).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion[:, :-1].sum(axis=0)
    precision = _ratio(hits, predicted)
    recall = _ratio(hits, support)
    # 2 tp / (2 tp + fp + fn), as scikit-learn computes F1.
    f1 = _ratio(2.0 * hits, predicted + support)
    weights = support / total
    scores = {"acc": 100.0 * hits.sum() / total}
    for code, label in enumerate(labels):
        scores[f"precision_{label}"] = 100.0 * precision[code]
        scores[f"recall_{label}"] = 100.0 * recall[code]
        scores[f"f1_{label}"] = 100.0 * f1[code]
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        scores[f"{name}_weighted"] = 100.0 * float(weights @ values)
    scores["unparsed"] = 100.0 * confusion[:, -1].sum() / total
    if "yes" in labels:
        scores["yes_rate"] = 100.0 * predicted[labels.index("yes")] / total
    return {metric: float(value) for metric, value in scores.items()}


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def _encoded(values: list, codes: dict, allow_missing: bool) -> np.ndarray | None:
    """Class codes (-1 for missing), or None when a value is no class."""
    encoded = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if allow_missing and _missing(value):
            encoded[i] = _UNPARSED_CODE
            continue
        try:
            encoded[i] = codes[value]
        except (KeyError, TypeError):
            return None
    return encoded


def _unknown(values: list, codes: dict) -> list[str]:
    unknown = set()
    for value in values:
        try:
            known = value in codes
        except TypeError:
            known = False
        if not known:
            unknown.add(str(value))
    return sorted(unknown)[:5]


def _missing(value: object) -> bool:
    """None, or NaN/NA as pandas gives for missing cells."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array is not a missing value
        return False
