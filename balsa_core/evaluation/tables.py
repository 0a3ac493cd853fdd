"""Tables IV and V from the evaluations' metrics: one row per model, an empty cell and a note for
anything not measured, and the same numbers in long form for the report.

``results`` maps (evaluation, model) to the metrics an evaluation job wrote: ``items``,
``answered``, ``skipped`` (reason -> count), ``overall`` and ``subsets`` (see
:func:`balsa_core.evaluation.suite.evaluation_metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from balsa_core.evaluation.instruction_following import forgetting_rate
from balsa_core.evaluation.registry import COLUMNS, IF_OPEN_NOTE, TABLE5, table_columns
from balsa_core.evaluation.suite import metric_value

Results = Mapping[tuple[str, str], Mapping[str, object]]
DETAIL_COLUMNS = ["evaluation", "subset", "model", "answered", "metric", "value"]


def results_table(
    table: str, results: Results, models: Sequence[str], unconfigured: Mapping[str, str], text_model: str | None
) -> pd.DataFrame:
    """``table`` (table4 or table5) with a row per model, values in percent to 2 decimals, and ``notes``.

    ``unconfigured`` maps evaluations that were not run to why (e.g. the config key to set);
    ``text_model`` names the row holding the text-only backbone, whose instruction-following
    rate the forgetting rate of every other row is relative to.
    """
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
        if table == TABLE5:
            notes += _instruction_following(row, model, results, text_model, "instruction_following" in unconfigured)
        row["notes"] = "; ".join(notes)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["model", *table_columns(table), "notes"])
    numeric = table_columns(table)
    frame[numeric] = frame[numeric].astype(float).round(2)
    return frame


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
    notes = [IF_OPEN_NOTE]
    if model == text_model:
        return notes
    text_metrics = results.get(("instruction_following", text_model)) if text_model else None
    text_rate = None if text_metrics is None else text_metrics.get("overall", {}).get("if_rate")
    if text_rate is None:
        notes.append("if_forgetting_rate: needs the text-only backbone's rate (evaluation.text_ceiling: true)")
    else:
        delta = forgetting_rate(float(row["if_rate"]), float(text_rate))
        if math.isnan(delta):
            notes.append("if_forgetting_rate: undefined, the text-only backbone followed no constraint")
        else:
            row["if_forgetting_rate"] = delta
    return notes


def details_table(results: Results) -> pd.DataFrame:
    """Every metric of every evaluation, model and subset ('all' for the whole evaluation)."""
    rows = []
    for (evaluation, model), metrics in sorted(results.items()):
        scopes = {"all": metrics.get("overall", {}), **dict(metrics.get("subsets", {}))}
        for subset, values in scopes.items():
            for metric, value in sorted(dict(values).items()):
                rows.append(
                    {
                        "evaluation": evaluation,
                        "subset": subset,
                        "model": model,
                        "answered": int(metrics.get("answered", metrics.get("items", 0))),
                        "metric": metric,
                        "value": round(float(value), 2),
                    }
                )
    return pd.DataFrame(rows, columns=DETAIL_COLUMNS)
