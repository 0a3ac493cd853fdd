"""What the answer sheets say about the tables' numbers: each metric's bootstrap interval and
chance level, whether an evaluation can tell anything about this backbone at all, and paired
comparisons of the models the papers compare.

An answer sheet is what an evaluation job wrote per model (``results/eval/<evaluation>/
<model>.answers.parquet``: every answered item with its ``gold``, ``parsed`` and ``correct``).
Metrics are recomputed from it with the same scorer as the evaluation job
(:func:`balsa_core.evaluation.suite.item_scorer`); the statistics are those of
:mod:`balsa_core.evaluation.intervals`.

Validity: an evaluation is informative for this backbone when its text ceiling (the backbone
reading each clip's description instead of hearing it) is above chance on the evaluation's
main metric (:func:`balsa_core.evaluation.registry.main_metric`), one-sided at
``intervals.ALPHA``: an exact binomial test when the metric is a share of items right, else the
bootstrap lower bound. If even the text ceiling is at chance, no adapter's figure can show the
audio was understood.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from balsa_core.config import UNTRAINED
from balsa_core.evaluation import intervals
from balsa_core.evaluation.intervals import ALPHA, RESAMPLES, ScalarStatistic
from balsa_core.evaluation.metrics import ItemScorer
from balsa_core.evaluation.registry import main_metric
from balsa_core.evaluation.suite import gold_answers, item_scorer, subset_groups

OVERALL = "all"  # the scope of all of an evaluation's items, as the details table names it
# The papers' own comparison: does training on negative targets beat positive targets only?
PAPER_PAIRS = (("positive_negative", "positive_only"),)
COMPARISON_COLUMNS = [
    "evaluation",
    "metric",
    "model_a",
    "model_b",
    "items",
    "value_a",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "test",
]
MCNEMAR = "mcnemar_exact"
PAIRED_BOOTSTRAP = "paired_bootstrap"

Sheets = Mapping[tuple[str, str], pd.DataFrame]  # (evaluation, model) -> answer sheet


@dataclass(frozen=True)
class ScopeStatistics:
    """The metrics of one (evaluation, model, subset) with their intervals and chance levels, in percent."""

    items: int
    values: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]
    chance: dict[str, float | None]


@dataclass(frozen=True)
class Validity:
    """Whether ``evaluation`` can say anything for this backbone (None: unknown), and the note saying so."""

    evaluation: str
    informative: bool | None
    note: str


Statistics = Mapping[tuple[str, str, str], ScopeStatistics]  # (evaluation, model, subset)


def scope_statistics(
    sheets: Sheets, *, resamples: int = RESAMPLES, seed: int = 0
) -> dict[tuple[str, str, str], ScopeStatistics]:
    """:class:`ScopeStatistics` of every answer sheet over all its items (:data:`OVERALL`) and per
    subset (as the evaluation job splits them), keyed (evaluation, model, subset)."""
    statistics = {}
    for (evaluation, model), sheet in sheets.items():
        for subset, items in {OVERALL: sheet, **subset_groups(sheet)}.items():
            if not items.empty:
                statistics[evaluation, model, subset] = _statistics(items.reset_index(drop=True), resamples, seed)
    return statistics


def _statistics(items: pd.DataFrame, resamples: int, seed: int) -> ScopeStatistics:
    scorer = item_scorer(items)
    values = scorer(np.arange(len(items)))
    names = list(values)
    lows, highs = intervals.bootstrap_intervals(
        lambda indices: _vector(scorer, indices, names), len(items), resamples=resamples, seed=seed
    )
    return ScopeStatistics(
        items=len(items),
        values=values,
        low=dict(zip(names, map(float, lows))),
        high=dict(zip(names, map(float, highs))),
        chance=item_chance(items, names),
    )


def _vector(scorer: ItemScorer, indices: np.ndarray, names: Sequence[str]) -> np.ndarray:
    scores = scorer(indices)
    return np.array([scores[name] for name in names])


def item_chance(items: pd.DataFrame, metrics: Iterable[str]) -> dict[str, float | None]:
    """Each metric's chance level over these scored items (see ``intervals.chance_levels``)."""
    return intervals.chance_levels(
        metrics, list(items["question_type"]), gold_answers(items), [len(options) for options in items["options"]]
    )


def evaluation_validity(
    evaluations: Iterable[str],
    text_model: str | None,
    sheets: Sheets,
    statistics: Statistics,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, Validity]:
    """The :class:`Validity` of each evaluation whose main metric has a chance level (the others,
    e.g. the instruction-following rate, are not judged and left out)."""
    validity = {}
    for evaluation in evaluations:
        metric = main_metric(evaluation)
        if metric is None or not _has_chance(statistics, evaluation, metric):
            continue
        if text_model is None:
            unknown = f"{evaluation}: validity unknown without the text ceiling (evaluation.text_ceiling: true)"
            validity[evaluation] = Validity(evaluation, None, unknown)
            continue
        scope = statistics.get((evaluation, text_model, OVERALL))
        if scope is None or metric not in scope.values:
            validity[evaluation] = Validity(
                evaluation, None, f"{evaluation}: validity unknown, the text ceiling answered none of its items"
            )
            continue
        chance = scope.chance[metric]
        if chance is not None:
            informative = _above_chance(sheets[evaluation, text_model], metric, chance, resamples, seed)
            validity[evaluation] = Validity(
                evaluation, informative, "" if informative else _at_chance(evaluation, metric, scope)
            )
    return validity


def _has_chance(statistics: Statistics, evaluation: str, metric: str) -> bool:
    """Whether chance means something for the metric, as any model's items of the evaluation say."""
    levels = [
        scope.chance.get(metric)
        for (name, _, subset), scope in statistics.items()
        if name == evaluation and subset == OVERALL
    ]
    return not levels or any(level is not None for level in levels)


def _above_chance(sheet: pd.DataFrame, metric: str, chance: float, resamples: int, seed: int) -> bool:
    """One-sided at ALPHA: exact binomial for a share of items right, else the bootstrap's ALPHA percentile."""
    scorer = item_scorer(sheet.reset_index(drop=True))
    per_item = scorer.per_item(metric)
    if per_item is not None:
        return intervals.above_chance_p(int(per_item.sum()), len(per_item), chance) < ALPHA
    statistic = _metric_statistic(scorer, metric)
    low, _ = intervals.bootstrap_interval(
        statistic, len(sheet), resamples=resamples, confidence=1 - 2 * ALPHA, seed=seed
    )
    return low > chance


def _metric_statistic(scorer: ItemScorer, metric: str) -> ScalarStatistic:
    """The metric of a selection of items: a mean of per-item scores where it is one (cheaper)."""
    per_item = scorer.per_item(metric)
    if per_item is not None:
        return lambda indices: 100.0 * float(per_item[indices].mean())
    return lambda indices: scorer(indices)[metric]


def _at_chance(evaluation: str, metric: str, scope: ScopeStatistics) -> str:
    return (
        f"{evaluation}: uninformative for this backbone: the text ceiling scores {metric} "
        f"{scope.values[metric]:.1f}% [{scope.low[metric]:.1f}, {scope.high[metric]:.1f}] "
        f"against chance {scope.chance[metric]:.1f}%"
    )


def compared_pairs(models: Sequence[str], text_model: str | None) -> list[tuple[str, str]]:
    """(a, b) pairs to compare, a - b: the papers' pairs whose models both ran, then every other
    model against each reference present (the text ceiling, then :data:`UNTRAINED`)."""
    references = [model for model in dict.fromkeys((text_model, UNTRAINED)) if model in models]
    pairs = [(a, b) for a, b in PAPER_PAIRS if a in models and b in models]
    pairs += [(model, reference) for reference in references for model in models if model not in references]
    return list(dict.fromkeys(pairs))


def comparisons_table(
    sheets: Sheets, models: Sequence[str], text_model: str | None, *, resamples: int = RESAMPLES, seed: int = 0
) -> pd.DataFrame:
    """One row per evaluation (with a main metric) and compared pair answered by both on some
    shared items: both models' figures on those items, the difference a - b with its paired
    bootstrap interval, and the two-sided p-value (exact McNemar for a share of items right,
    else the paired bootstrap's)."""
    rows = []
    evaluations = sorted({evaluation for evaluation, _ in sheets})
    for evaluation in evaluations:
        metric = main_metric(evaluation)
        for a, b in compared_pairs(models, text_model):
            if metric is None or (evaluation, a) not in sheets or (evaluation, b) not in sheets:
                continue
            row = _comparison(sheets, evaluation, metric, a, b, resamples, seed)
            if row is not None:
                rows.append(row)
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _comparison(
    sheets: Sheets, evaluation: str, metric: str, a: str, b: str, resamples: int, seed: int
) -> dict[str, object] | None:
    items_a, items_b = _shared_items(sheets, evaluation, a, b)
    if items_a.empty:
        return None
    scorer_a, scorer_b = item_scorer(items_a), item_scorer(items_b)
    everything = np.arange(len(items_a))
    values_a, values_b = scorer_a(everything), scorer_b(everything)
    if metric not in values_a or metric not in values_b:
        return None
    paired = intervals.paired_difference(
        _metric_statistic(scorer_a, metric),
        _metric_statistic(scorer_b, metric),
        len(items_a),
        resamples=resamples,
        seed=seed,
    )
    per_item_a, per_item_b = scorer_a.per_item(metric), scorer_b.per_item(metric)
    exact = per_item_a is not None and per_item_b is not None
    return {
        "evaluation": evaluation,
        "metric": metric,
        "model_a": a,
        "model_b": b,
        "items": len(items_a),
        "value_a": round(values_a[metric], 2),
        "value_b": round(values_b[metric], 2),
        "difference": round(paired.difference, 2),
        "ci_low": round(paired.low, 2),
        "ci_high": round(paired.high, 2),
        "p_value": float(f"{intervals.mcnemar_p(per_item_a > 0.5, per_item_b > 0.5) if exact else paired.p_value:.4g}"),
        "test": MCNEMAR if exact else PAIRED_BOOTSTRAP,
    }


def _shared_items(sheets: Sheets, evaluation: str, a: str, b: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The items both models answered, in the same order in both sheets."""
    for model in (a, b):
        repeated = sheets[evaluation, model]["item_id"]
        repeated = repeated[repeated.duplicated()]
        if not repeated.empty:
            raise ValueError(f"{evaluation}/{model}: the answer sheet repeats item_id {repeated.iloc[0]!r}")
    sheet_a, sheet_b = sheets[evaluation, a], sheets[evaluation, b]
    shared = sheet_a[sheet_a["item_id"].isin(sheet_b["item_id"])].reset_index(drop=True)
    other = sheet_b.set_index("item_id").loc[shared["item_id"]].reset_index()
    return shared, other
