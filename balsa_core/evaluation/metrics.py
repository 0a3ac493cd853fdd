"""Yes/no metrics of the hallucination table, in percent as the papers report them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

ANSWER_LABELS = ["yes", "no"]
# A third class no true label carries, so an unparsed reply is a miss for its true class
# and a false positive for neither yes nor no.
UNPARSED = "unparsed"


def yes_no_metrics(labels: Sequence[str], predictions: Sequence[str | None]) -> dict[str, float]:
    """acc, f1_yes, f1_no, f1_weighted, yes_rate and unparsed, all in percent (0..100)."""
    truth = _checked_labels(labels)
    predicted = _predicted_classes(predictions, expected_length=len(truth))
    per_class = f1_score(truth, predicted, labels=ANSWER_LABELS, average=None, zero_division=0.0)
    weighted = f1_score(truth, predicted, labels=ANSWER_LABELS, average="weighted", zero_division=0.0)
    return {
        "acc": 100.0 * float(accuracy_score(truth, predicted)),
        "f1_yes": 100.0 * float(per_class[0]),
        "f1_no": 100.0 * float(per_class[1]),
        "f1_weighted": 100.0 * float(weighted),
        "yes_rate": 100.0 * float(np.mean(predicted == "yes")),
        "unparsed": 100.0 * float(np.mean(predicted == UNPARSED)),
    }


def _checked_labels(labels: Sequence[str]) -> np.ndarray:
    truth = np.asarray(list(labels), dtype=object)
    if truth.size == 0:
        raise ValueError("yes_no_metrics: no labels given")
    unknown = sorted({str(label) for label in truth} - set(ANSWER_LABELS))
    if unknown:
        raise ValueError(f"yes_no_metrics: labels must be 'yes' or 'no', got {unknown[:5]}")
    return truth


def _predicted_classes(predictions: Sequence[str | None], expected_length: int) -> np.ndarray:
    predicted = list(predictions)
    if len(predicted) != expected_length:
        raise ValueError(f"yes_no_metrics: {expected_length} labels but {len(predicted)} predictions")
    # None from the parser, or NaN once a table of parsed answers went through CSV.
    classes = np.asarray([UNPARSED if pd.isna(p) else p for p in predicted], dtype=object)
    unknown = sorted({str(c) for c in classes} - {*ANSWER_LABELS, UNPARSED})
    if unknown:
        raise ValueError(f"yes_no_metrics: predictions must be 'yes', 'no' or None, got {unknown[:5]}")
    return classes
