"""Classification metrics of the evaluation tables, in percent as the papers report them.

Everything is computed by scikit-learn. A prediction of None (a reply the parser could
not read, or NaN once parsed answers went through a CSV file) is scored as a third,
"unparsed" class that no gold label carries: it is a miss for its true class and a
false positive for no class, so it lowers accuracy and recall but no precision, and it
is also reported on its own as the ``unparsed`` share.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

ANSWER_LABELS = ["yes", "no"]
# The name of the class an unparsed reply is scored as, in messages and tables.
UNPARSED = "unparsed"
_UNPARSED_CODE = -1


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
    return _scores(gold, predicted, labels, caller="classification_metrics")


def yes_no_metrics(labels: Sequence[str], predictions: Sequence[str | None]) -> dict[str, float]:
    """acc, f1_yes, f1_no, f1_weighted, yes_rate and unparsed, all in percent (0..100)."""
    # Tables written before the parser returned None spell an unparsed reply out.
    predicted = [None if isinstance(p, str) and p == UNPARSED else p for p in predictions]
    scores = _scores(labels, predicted, ANSWER_LABELS, caller="yes_no_metrics")
    return {key: scores[key] for key in ("acc", "f1_yes", "f1_no", "f1_weighted", "yes_rate", "unparsed")}


def _scores(
    gold: Sequence[Hashable], predicted: Sequence[Hashable | None], labels: Sequence[Hashable], caller: str
) -> dict[str, float]:
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

    indices = list(range(len(classes)))
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, guess, labels=indices, average=None, zero_division=0.0
    )
    weighted = precision_recall_fscore_support(truth, guess, labels=indices, average="weighted", zero_division=0.0)
    scores = {"acc": 100.0 * float(accuracy_score(truth, guess))}
    for code, label in enumerate(classes):
        scores[f"precision_{label}"] = 100.0 * float(precision[code])
        scores[f"recall_{label}"] = 100.0 * float(recall[code])
        scores[f"f1_{label}"] = 100.0 * float(f1[code])
    for name, value in zip(("precision", "recall", "f1"), weighted[:3]):
        scores[f"{name}_weighted"] = 100.0 * float(value)
    scores["unparsed"] = 100.0 * float(np.mean(guess == _UNPARSED_CODE))
    if "yes" in codes:
        scores["yes_rate"] = 100.0 * float(np.mean(guess == codes["yes"]))
    return scores


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
