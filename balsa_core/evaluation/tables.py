"""Tables IV and V from the evaluations' metrics: one row per model, an empty cell and a note for
anything not measured, whether the row's evaluations mean anything for this backbone, and the
same numbers in long form with their intervals and chance levels for the report.

``results`` maps (evaluation, model) to the metrics an evaluation job wrote: ``items``,
``answered``, ``skipped`` (reason -> count), ``overall`` and ``subsets`` (see
:func:`balsa_core.evaluation.suite.evaluation_metrics`). Intervals, chance levels and validity
come from the answer sheets (:mod:`balsa_core.evaluation.uncertainty`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from balsa_core.evaluation.instruction_following import forgetting_rate
from balsa_core.evaluation.registry import (
    COLUMNS,
    IF_NO_JUDGE_NOTE,
    IF_OPEN_NOTE,
    NO_JUDGE,
    TABLE5,
    Column,
    table_columns,
)
from balsa_core.evaluation.suite import metric_value
from balsa_core.evaluation.uncertainty import OVERALL, ScopeStatistics, Statistics, Validity

Results = Mapping[tuple[str, str], Mapping[str, object]]
DETAIL_COLUMNS = ["evaluation", "subset", "model", "answered", "metric", "value", "ci_low", "ci_high", "chance"]
VALID = "valid"


def results_table(
    table: str,
    results: Results,
    models: Sequence[str],
    unconfigured: Mapping[str, str],
    text_model: str | None,
    validity: Mapping[str, Validity] | None = None,
) -> pd.DataFrame:
    """``table`` (table4 or table5) with a row per model, values in percent to 2 decimals,
    ``valid`` and ``notes``.

    ``unconfigured`` maps evaluations that were not run to why (e.g. the config key to set);
    ``text_model`` names the row holding the text-only backbone, whose instruction-following
    rate the forgetting rate of every other row is relative to. ``validity`` judges evaluations
    (see :func:`row_validity`; None: none is judged and ``valid`` stays empty); each judgement's
    note goes to the rows that measured the evaluation.
    """
    validity = validity or {}
    columns = [column for column in COLUMNS if column.table == table]
    evaluations = list(dict.fromkeys(column.evaluation for column in columns))
    rows = []
    for model in models:
        row: dict[str, object] = {"model": model}
        notes = [f"{name}: {why}" for name, why in unconfigured.items() if name in evaluations]
        for evaluation in evaluations:
            if evaluation in unconfigured:
                continue
            metrics = results.get((evaluation, model))
            if metrics is None:
                notes.append(f"{evaluation}: not evaluated for this model")
                continue
            notes += _coverage_notes(evaluation, metrics)
        for column in columns:
            metrics = results.get((column.evaluation, model))
            row[column.name] = None if metrics is None else metric_value(metrics, column)
        row[VALID], judgement_notes = _judged(row, columns, validity)
        notes += judgement_notes
        if table == TABLE5:
            notes += _instruction_following(row, model, results, text_model, "instruction_following" in unconfigured)
        row["notes"] = "; ".join(notes)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["model", *table_columns(table), VALID, "notes"])
    numeric = table_columns(table)
    frame[numeric] = frame[numeric].astype(float).round(2)
    return frame


def _judged(
    row: Mapping[str, object], columns: Sequence[Column], validity: Mapping[str, Validity]
) -> tuple[bool | None, list[str]]:
    """The row's validity and notes, over the evaluations it has a value for."""
    measured = dict.fromkeys(column.evaluation for column in columns if row[column.name] is not None)
    judged = [validity[name] for name in measured if name in validity]
    return row_validity(judged), [judgement.note for judgement in judged if judgement.note]


def row_validity(judged: Sequence[Validity]) -> bool | None:
    """False when an evaluation of the row is uninformative, True when all judged ones are
    informative, None (unknown) when some cannot be judged or none was."""
    verdicts = [judgement.informative for judgement in judged]
    if False in verdicts:
        return False
    return None if not verdicts or None in verdicts else True


def _coverage_notes(evaluation: str, metrics: Mapping[str, object]) -> list[str]:
    answered = int(metrics.get("answered", metrics.get("items", 0)))
    skipped = {reason: int(count) for reason, count in dict(metrics.get("skipped", {})).items() if count}
    if answered == 0:
        reasons = ", ".join(skipped) or "no items"
        return [f"{evaluation}: nothing to score ({reasons})"]
    return [
        f"{evaluation}: {count} of {metrics['items']} items skipped ({reason})" for reason, count in skipped.items()
    ]


def _instruction_following(
    row: dict[str, object], model: str, results: Results, text_model: str | None, unconfigured: bool
) -> list[str]:
    row["if_open"] = None
    row["if_rate"] = row["if_close"]
    row["if_forgetting_rate"] = None
    if unconfigured or row["if_close"] is None:
        return []
    rates = _if_rates(results.get(("instruction_following", model), {}))
    row["if_close"], row["if_open"], row["if_rate"] = rates.close, rates.open, rates.rate
    notes = [rates.note] if rates.note else []
    if model == text_model:
        return notes
    text_metrics = results.get(("instruction_following", text_model)) if text_model else None
    text_rate = None if text_metrics is None else _if_rates(text_metrics).rate
    if text_rate is None:
        notes.append("if_forgetting_rate: needs the text-only backbone's rate (evaluation.text_ceiling: true)")
    else:
        delta = forgetting_rate(float(row["if_rate"]), float(text_rate))
        if math.isnan(delta):
            notes.append("if_forgetting_rate: undefined, the text-only backbone followed no constraint")
        else:
            row["if_forgetting_rate"] = delta
    return notes


@dataclass(frozen=True)
class IFRates:
    close: float | None
    open: float | None
    rate: float | None
    note: str


def _if_rates(metrics: Mapping[str, object]) -> IFRates:
    """The closed- and open-ended rates and the IF rate of one instruction-following job.

    Speech-IFEval's metrics carry ``if_close`` and ``if_open``, and ``if_rate`` their mean; without
    a judge the chain-of-thought items were skipped, so the open-ended rate is left out rather
    than shown for creative writing alone. The built constraints are all closed-ended."""
    overall = dict(metrics.get("overall", {}))
    if "if_close" not in overall and "if_open" not in overall:
        return IFRates(_number(overall.get("if_rate")), None, _number(overall.get("if_rate")), IF_OPEN_NOTE)
    close = _number(overall.get("if_close"))
    if dict(metrics.get("skipped", {})).get(NO_JUDGE):
        return IFRates(close, None, close, IF_NO_JUDGE_NOTE)
    return IFRates(close, _number(overall.get("if_open")), _number(overall.get("if_rate")), "")


def _number(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def details_table(results: Results, statistics: Statistics | None = None) -> pd.DataFrame:
    """Every metric of every evaluation, model and subset ('all' for the whole evaluation), with
    its interval and chance level from ``statistics`` (empty where they have none)."""
    statistics = statistics or {}
    rows = []
    for (evaluation, model), metrics in sorted(results.items()):
        scopes = {OVERALL: metrics.get("overall", {}), **dict(metrics.get("subsets", {}))}
        for subset, values in scopes.items():
            scope = statistics.get((evaluation, model, subset))
            for metric, value in sorted(dict(values).items()):
                low, high, chance = (None, None, None) if scope is None else _bounds(scope, metric)
                rows.append(
                    {
                        "evaluation": evaluation,
                        "subset": subset,
                        "model": model,
                        "answered": int(metrics.get("answered", metrics.get("items", 0))),
                        "metric": metric,
                        "value": round(float(value), 2),
                        "ci_low": low,
                        "ci_high": high,
                        "chance": chance,
                    }
                )
    frame = pd.DataFrame(rows, columns=DETAIL_COLUMNS)
    bounds = ["ci_low", "ci_high", "chance"]
    frame[bounds] = frame[bounds].astype(float).round(2)
    return frame


def _bounds(scope: ScopeStatistics, metric: str) -> tuple[float | None, float | None, float | None]:
    return scope.low.get(metric), scope.high.get(metric), scope.chance.get(metric)


def _interval_metric(column: Column, scope: ScopeStatistics) -> str:
    """The metric whose interval a cell shows: the column's own, except the instruction-following
    cell, which shows Speech-IFEval's closed-ended rate where one was measured, as its value does
    (the built constraints, all closed-ended, measure only ``if_rate``)."""
    return "if_close" if column.name == "if_close" and "if_close" in scope.low else column.metric


def cell_intervals(
    table: str, models: Sequence[str], statistics: Statistics
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Each cell's interval bounds (rows: models, columns: the table's metric columns; NaN where
    unknown) and each column's chance level, for the plot. A column's chance is taken from the
    model that answered the most of its items (models may skip different items)."""
    columns = [column for column in COLUMNS if column.table == table]
    low = pd.DataFrame(np.nan, index=list(models), columns=[column.name for column in columns])
    high = low.copy()
    chance = {}
    for column in columns:
        scopes = {model: statistics.get((column.evaluation, model, column.subset or OVERALL)) for model in models}
        measured = [(model, scope, _interval_metric(column, scope)) for model, scope in scopes.items() if scope]
        for model, scope, metric in measured:
            if metric in scope.low:
                low.loc[model, column.name] = scope.low[metric]
                high.loc[model, column.name] = scope.high[metric]
        levels = [(scope.items, scope.chance.get(metric)) for _, scope, metric in measured]
        levels = [(items, level) for items, level in levels if level is not None]
        if levels:
            chance[column.name] = max(levels, key=lambda pair: pair[0])[1]
    return low, high, chance
