"""How much an evaluation's numbers can be trusted: bootstrap intervals, chance levels and tests.

Every figure of the tables is a metric over a few hundred items, so it moves by several points
when other items are drawn. This module says by how much, and whether it beats guessing.

Intervals
    A seeded percentile bootstrap over items (``scipy.stats.bootstrap``): the items are
    resampled with replacement, the statistic is recomputed on each resample, and the interval
    is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of those values.
    A statistic is a function of an array of item indices, so several metrics of one resample
    are computed together (one vector), and two models scored on the same items are resampled
    together (:func:`paired_difference`). A single item gives no interval (NaN).

Chance levels (:func:`chance_levels`, in percent, from the gold answers and option counts)
    ``acc``: the accuracy of the best guess that does not hear the audio: the majority answer
    on yes/no items, 1/k on an item with k shuffled options (options are shuffled per item, so
    no letter is better than another), 0 on an open item (no guess names a free-form answer);
    averaged over the items. ``f1_<label>``, ``precision_<label>`` and ``recall_<label>``: the
    score of a guesser drawing labels with the gold label frequencies p, which is p_label for
    each of the three. ``*_weighted``: the same guesser weighted by support, sum of p_i^2.
    Everything else (``yes_rate``, ``unparsed``, ``if_rate``, an evaluation of open answers
    only) has no chance level: None.

Tests
    Above chance (one-sided, :data:`ALPHA`): for a metric that is the mean of a 0/1 score per
    item (accuracy), an exact binomial test of the number right against the chance accuracy
    (:func:`above_chance_p`; with a different chance per item, e.g. mixed option counts, the
    binomial with their mean is conservative); for any other metric (F1, precision), the
    ``ALPHA`` percentile of the bootstrap (the lower end of a two-sided ``1 - 2 ALPHA``
    interval) above chance. Two models on the same items (two-sided): the exact McNemar test on
    the discordant items for 0/1 metrics (:func:`mcnemar_p`), else the paired bootstrap
    p-value of :func:`paired_difference`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

import numpy as np
from scipy.stats import binomtest, bootstrap

CONFIDENCE = 0.95
RESAMPLES = 1000
ALPHA = 0.05  # the level of every test

# The closed question types whose answers a guesser can name, and the one it cannot.
_YES_NO = "yes_no"
_MULTIPLE_CHOICE = "multiple_choice"
_OPEN = "open"
_CLASS_METRICS = ("f1", "precision", "recall")
_WEIGHTED = "weighted"

ScalarStatistic = Callable[[np.ndarray], float]
VectorStatistic = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PairedDifference:
    """``a - b`` on the same items, its bootstrap interval and two-sided bootstrap p-value."""

    difference: float
    low: float
    high: float
    p_value: float


class BootstrapSettings(TypedDict, total=False):
    """How :func:`bootstrap_interval` resamples: what it passes on to :func:`bootstrap_intervals`,
    whose defaults fill in what is left out."""

    resamples: int
    confidence: float
    seed: int


def bootstrap_interval(
    statistic: ScalarStatistic, n_items: int, **settings: Unpack[BootstrapSettings]
) -> tuple[float, float]:
    """The percentile bootstrap interval of ``statistic`` (a function of item indices) over
    ``n_items`` items; (NaN, NaN) for a single item. The same seed gives the same
    interval."""
    low, high = bootstrap_intervals(lambda indices: np.array([statistic(indices)]), n_items, **settings)
    return float(low[0]), float(high[0])


def bootstrap_intervals(
    statistic: VectorStatistic,
    n_items: int,
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Lows and highs of a statistic returning one value per metric, all from the same resamples
    (NaN for a single item, an error for none)."""
    if n_items < 1:
        raise ValueError("bootstrap_intervals: no items")
    if n_items == 1:
        width = len(np.atleast_1d(statistic(np.arange(1))))
        return np.full(width, np.nan), np.full(width, np.nan)
    interval = _bootstrap(statistic, n_items, resamples, confidence, seed).confidence_interval
    return np.atleast_1d(interval.low), np.atleast_1d(interval.high)


def paired_difference(
    statistic_a: ScalarStatistic,
    statistic_b: ScalarStatistic,
    n_items: int,
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> PairedDifference:
    """Model a minus model b, both scored on the same ``n_items`` items, resampled together.

    The p-value is the two-sided bootstrap one, 2 x the share of resampled differences on the
    far side of 0 (counting the observed sample, so it is never 0): below ``1 - confidence``
    exactly when the percentile interval leaves 0 out.
    """
    if n_items < 1:
        raise ValueError("paired_difference: no items")
    everything = np.arange(n_items)
    difference = float(statistic_a(everything) - statistic_b(everything))
    if n_items < 2:
        return PairedDifference(difference, float("nan"), float("nan"), float("nan"))
    result = _bootstrap(
        lambda indices: statistic_a(indices) - statistic_b(indices), n_items, resamples, confidence, seed
    )
    distribution = result.bootstrap_distribution
    far_side = min(np.sum(distribution <= 0.0), np.sum(distribution >= 0.0))
    p_value = min(1.0, 2.0 * float(far_side + 1) / (resamples + 1))
    interval = result.confidence_interval
    return PairedDifference(difference, float(interval.low), float(interval.high), p_value)


def _bootstrap(
    statistic: Callable[[np.ndarray], object], n_items: int, resamples: int, confidence: float, seed: int
) -> Any:
    """scipy's percentile bootstrap of a statistic of item indices (resampled with replacement);
    its result (``confidence_interval``, ``bootstrap_distribution``) has no public type to name."""
    return bootstrap(
        (np.arange(n_items),),
        statistic,
        n_resamples=resamples,
        vectorized=False,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )


def mcnemar_p(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> float:
    """Exact two-sided McNemar p-value: of the items exactly one model got right, is either
    model right more often than a fair coin would say? 1.0 when there are none."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"mcnemar_p: {a.size} items for a but {b.size} for b")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def above_chance_p(successes: int, trials: int, chance: float) -> float:
    """One-sided exact binomial p-value of ``successes`` of ``trials`` against ``chance`` percent."""
    if trials < 1:
        raise ValueError("above_chance_p: no trials")
    return float(binomtest(successes, trials, chance / 100.0, alternative="greater").pvalue)


def chance_levels(
    metrics: Iterable[str],
    question_types: Sequence[str],
    gold: Sequence[Hashable],
    option_counts: Sequence[int],
) -> dict[str, float | None]:
    """Each metric's chance level in percent (None: chance means nothing for it), from the
    items' question types, gold answers (the option text for a multiple-choice item) and option
    counts (0 where there are no options). See the module docstring for the definitions."""
    if not len(question_types) == len(gold) == len(option_counts):
        raise ValueError(
            f"chance_levels: {len(question_types)} question types, {len(gold)} gold answers "
            f"and {len(option_counts)} option counts"
        )
    if not question_types:
        raise ValueError("chance_levels: no items")
    shares = {label: count / len(gold) for label, count in Counter(gold).items()}
    levels = {}
    for metric in metrics:
        kind, _, label = metric.partition("_")
        if metric == "acc":
            level = _chance_accuracy(question_types, gold, option_counts)
        elif kind in _CLASS_METRICS and label == _WEIGHTED:
            level = sum(share**2 for share in shares.values())
        elif kind in _CLASS_METRICS and label:
            level = shares.get(label, 0.0)
        else:
            level = None
        levels[metric] = None if level is None else 100.0 * level
    return levels


def _chance_accuracy(
    question_types: Sequence[str], gold: Sequence[Hashable], option_counts: Sequence[int]
) -> float | None:
    """The best guess's expected share right: the majority yes/no answer, 1/k per k options, 0 per open item."""
    if not set(question_types) <= {_YES_NO, _MULTIPLE_CHOICE, _OPEN} or set(question_types) == {_OPEN}:
        return None
    yes_no = Counter(answer for kind, answer in zip(question_types, gold) if kind == _YES_NO)
    right = max(yes_no.values(), default=0)
    for kind, count in zip(question_types, option_counts):
        if kind == _MULTIPLE_CHOICE:
            if count < 1:
                raise ValueError("chance_levels: a multiple-choice item without options")
            right += 1.0 / count
    return right / len(question_types)
