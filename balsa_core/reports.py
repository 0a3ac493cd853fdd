"""Result tables and figures for the report.

Figures are drawn on bare ``Figure`` objects with the Agg canvas, never through
pyplot, so no global backend or figure registry is touched by pipeline jobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from balsa_core.generation.quality import LOW_MENTION_RATE

FIGURE_SIZE_INCHES = (12.0, 6.0)
FIGURE_DPI = 100  # 1200 x 600 pixels
SMOOTHING_MIN_POINTS = 20


QUALITY_COUNTS = ["targets", "empty", "cut_off", "leaking", "mentioning", "dropped"]
QUALITY_COLUMNS = [
    "target_set",
    "corpus",
    "source",
    *QUALITY_COUNTS,
    "leak_rate_pct",
    "mention_rate_pct",
    "leaking_targets",
    "notes",
]


def generation_quality_table(reports: Sequence[Mapping]) -> pd.DataFrame:
    """One row per (target set, corpus) and an ``all`` row per set over several corpora.

    ``leaking`` and ``leak_rate_pct`` are empty for sets whose targets are not checked for
    leaks (only absent-sound sets are); ``mentioning`` and ``mention_rate_pct`` (targets naming
    a sound of their clips) are empty for those sets, and for reports written before the check
    existed. Both rates are over non-empty targets. ``notes`` names a row whose mention rate is
    under ``LOW_MENTION_RATE`` as unlikely to teach grounding.
    """
    rows = pd.DataFrame(list(reports))
    if rows.empty:
        return pd.DataFrame(columns=QUALITY_COLUMNS)
    if "mention_checked" not in rows.columns:
        rows = rows.assign(mention_checked=False, mentioning=None)
    rows["mention_checked"] = rows["mention_checked"].fillna(False).astype(bool)
    sections = []
    for _, group in rows.sort_values(["target_set", "corpus"]).groupby("target_set", sort=True):
        sections.append(group)
        if len(group) > 1:
            total = {"target_set": group["target_set"].iloc[0], "corpus": "all", "source": group["source"].iloc[0]}
            total.update({column: group[column].sum(min_count=1) for column in QUALITY_COUNTS})
            total.update(
                leak_checked=group["leak_checked"].all(),
                mention_checked=group["mention_checked"].all(),
                leaking_targets=group["leaking_targets"].iloc[0],
            )
            sections.append(pd.DataFrame([total]))
    table = pd.concat(sections, ignore_index=True)
    for count, rate, checked in (
        ("leaking", "leak_rate_pct", "leak_checked"),
        ("mentioning", "mention_rate_pct", "mention_checked"),
    ):
        table[rate] = _percent_of_answered(table, count).where(table[checked].astype(bool)).round(2)
        table.loc[~table[checked].astype(bool), count] = None
    table["notes"] = [_mention_note(rate) for rate in table["mention_rate_pct"]]
    return table[QUALITY_COLUMNS]


def _percent_of_answered(table: pd.DataFrame, count: str) -> pd.Series:
    non_empty = table["targets"] - table["empty"]
    return 100.0 * table[count].astype(float) / non_empty.where(non_empty > 0)


def _mention_note(rate_pct: float) -> str:
    if pd.isna(rate_pct) or rate_pct >= 100.0 * LOW_MENTION_RATE:
        return ""
    return (
        f"targets name their clip's sounds in {rate_pct:.0f}% of cases (under {100.0 * LOW_MENTION_RATE:.0f}%): "
        "unlikely to teach grounding"
    )


def plot_results_table(
    table: pd.DataFrame,
    path: Path,
    title: str,
    *,
    low: pd.DataFrame | None = None,
    high: pd.DataFrame | None = None,
    chance: Mapping[str, float] | None = None,
) -> None:
    """Grouped bars: one group per measured metric column, one bar per model, values on the bars.

    ``low`` and ``high`` (rows: models, columns: the table's columns; NaN or missing: none)
    draw each bar's confidence interval as an error bar, and ``chance`` each column's chance
    level as a dashed line across its group, so a bar that does not clear the line with its
    interval reads as a guess. Columns no model has a value for are left out, as are columns
    that hold no figures (model, valid, notes); the unparsed shares are data-quality checks,
    not results, and stay in the CSV only.
    """
    if table.empty:
        raise ValueError("plot_results_table: the table has no models")
    metrics = [
        column
        for column in table.columns
        if _figures(table[column]) and not column.endswith("unparsed") and table[column].notna().any()
    ]
    figure, axes = _new_figure()
    if not metrics:
        axes.text(0.5, 0.5, "no evaluation of this table was run: see the notes column", ha="center", va="center")
        axes.set_axis_off()
        axes.set_title(title)
        _save(figure, path)
        return
    group_positions = np.arange(len(metrics))
    bar_width = 0.8 / len(table)
    for index, row in enumerate(table.itertuples(index=False)):
        values = np.array([float(getattr(row, column)) for column in metrics])
        offsets = group_positions - 0.4 + bar_width * (index + 0.5)
        errors = _error_bars(values, _bounds(low, row.model, metrics), _bounds(high, row.model, metrics))
        bars = axes.bar(
            offsets,
            np.nan_to_num(values),
            width=bar_width,
            label=str(row.model),
            yerr=errors,
            capsize=2.0,
            ecolor="0.2",
        )
        labels = ["" if np.isnan(value) else f"{value:.1f}" for value in values]
        crowded = len(table) * len(metrics) > 24
        axes.bar_label(bars, labels=labels, padding=2, fontsize=6.5 if crowded else 8.0, rotation=90 if crowded else 0)
    levels = [(position, (chance or {}).get(column)) for position, column in zip(group_positions, metrics)]
    for number, (position, level) in enumerate((p, level) for p, level in levels if level is not None):
        label = "chance" if number == 0 else None
        axes.hlines(
            level, position - 0.45, position + 0.45, colors="black", linestyles="--", linewidth=1.2, label=label
        )
    axes.set_xticks(group_positions, [_column_label(column) for column in metrics], rotation=30, ha="right")
    # Relative columns (the forgetting rate) can leave 0..100; headroom keeps the labels inside.
    values = table[metrics].to_numpy(dtype=float)
    if high is not None:
        values = np.concatenate([values.ravel(), high.reindex(columns=metrics).to_numpy(dtype=float).ravel()])
    axes.set_ylim(min(0.0, float(np.nanmin(values))) * 1.15, max(100.0, float(np.nanmax(values))) * 1.12)
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_ylabel("%")
    axes.set_title(title, pad=16)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    # Below the axes, so bars near 100 % never hide behind it.
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=min(len(table), 4), frameon=False)
    _save(figure, path)


def _figures(column: pd.Series) -> bool:
    """Whether a table column holds figures to plot (numbers, not flags or text)."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _bounds(bounds: pd.DataFrame | None, model: object, columns: list[str]) -> np.ndarray:
    """One model's bounds of ``columns``; NaN where not given."""
    if bounds is None:
        return np.full(len(columns), np.nan)
    return bounds.reindex(index=[model], columns=columns).to_numpy(dtype=float)[0]


def _error_bars(values: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Distances below and above each bar (2 x bars); 0 where no interval is known."""
    return np.nan_to_num(np.stack([values - lows, highs - values])).clip(min=0.0)


def _column_label(column: str) -> str:
    """'hallucination_f1_yes' -> 'hallucination F1 yes', readable under a bar group."""
    words = column.split("_")
    replacements = {"f1": "F1", "acc": "Acc", "if": "IF"}
    return " ".join(replacements.get(word, word) for word in words)


def plot_loss_curve(loss: pd.DataFrame, path: Path, title: str) -> None:
    """Training loss against step (smoothed too when long enough), the validation loss where
    logged, the learning rate on a twin axis; and, when the log has the collapse monitor
    (``probe_spread``, ``probe_norm_ratio``), a second panel with both below it."""
    missing = [column for column in ("step", "loss", "lr") if column not in loss.columns]
    if missing:
        raise ValueError(f"plot_loss_curve: missing column(s) {missing}")
    if loss.empty:
        raise ValueError("plot_loss_curve: no logged steps")
    loss = loss.sort_values("step")
    monitored = loss.dropna(subset=["probe_spread"]) if "probe_spread" in loss.columns else loss.iloc[0:0]
    if monitored.empty:
        figure, loss_axes = _new_figure()
    else:
        width, height = FIGURE_SIZE_INCHES
        figure = Figure(figsize=(width, height * 1.5), dpi=FIGURE_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        loss_axes, monitor_axes = figure.subplots(2, 1, sharex=True, height_ratios=[2, 1])
        _plot_collapse_monitor(monitor_axes, monitored)
    lines = loss_axes.plot(loss["step"], loss["loss"], color="tab:blue", alpha=0.45, label="loss")
    if len(loss) > SMOOTHING_MIN_POINTS:
        lines += loss_axes.plot(
            loss["step"],
            smoothed(loss["loss"]),
            color="tab:blue",
            linewidth=2,
            label="loss (smoothed)",
        )
    if "val_loss" in loss.columns and loss["val_loss"].notna().any():
        validated = loss.dropna(subset=["val_loss"])
        lines += loss_axes.plot(
            validated["step"], validated["val_loss"], color="tab:red", marker="o", label="validation loss"
        )
    for boundary in epoch_boundaries(loss):
        loss_axes.axvline(boundary, color="grey", linestyle=":", linewidth=1)
    lr_axes = loss_axes.twinx()
    lines += lr_axes.plot(loss["step"], loss["lr"], color="tab:orange", label="learning rate")
    lr_axes.set_ylim(bottom=0)
    lr_axes.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    loss_axes.set_xlabel("step")
    loss_axes.set_ylabel("loss")
    lr_axes.set_ylabel("learning rate")
    loss_axes.set_title(title)
    loss_axes.grid(alpha=0.3)
    loss_axes.legend(lines, [line.get_label() for line in lines], loc="upper right")
    _save(figure, path)


def _plot_collapse_monitor(axes: Axes, monitored: pd.DataFrame) -> None:
    """Between-clip spread of the adapter's outputs (a collapsed adapter sits near 0) and their
    norm relative to the LLM's token embeddings, on a twin axis."""
    lines = axes.plot(
        monitored["step"], 100 * monitored["probe_spread"], color="tab:green", marker="o", label="between-clip spread"
    )
    axes.set_ylim(bottom=0)
    axes.set_ylabel("spread (% of magnitude)")
    axes.set_xlabel("step")
    axes.grid(alpha=0.3)
    if "probe_norm_ratio" in monitored.columns:
        norm_axes = axes.twinx()
        lines += norm_axes.plot(
            monitored["step"],
            monitored["probe_norm_ratio"],
            color="tab:purple",
            marker="s",
            label="output norm / token-embedding norm",
        )
        norm_axes.set_ylim(bottom=0)
        norm_axes.set_ylabel("norm ratio")
    axes.legend(lines, [line.get_label() for line in lines], loc="upper left")


def smoothed(values: pd.Series) -> pd.Series:
    """Centred moving average over about 5 % of the points (at least 5)."""
    window = max(5, len(values) // 20)
    return values.rolling(window, center=True, min_periods=1).mean()


def epoch_boundaries(loss: pd.DataFrame) -> list[float]:
    """Steps where a new whole epoch starts; trainers log fractional epochs, so floor them."""
    if "epoch" not in loss.columns:
        return []
    whole_epoch = np.floor(loss["epoch"].to_numpy(dtype=float))
    starts = np.flatnonzero(np.diff(whole_epoch) > 0) + 1
    return [float(step) for step in loss["step"].to_numpy()[starts]]


def plot_grounding(table: pd.DataFrame, path: Path) -> None:
    """Per model, the recall of its own clip's tags beside the control clip's, and their
    difference (grounding) with its bootstrap interval: a model that hears sits above zero."""
    if table.empty:
        raise ValueError("plot_grounding: the table has no models")
    figure, axes = _new_figure()
    positions = np.arange(len(table))
    width = 0.27
    bars = [
        ("recall", "own clip's tags (recall)", "tab:blue"),
        ("control_recall", "another clip's tags (control recall)", "tab:grey"),
        ("grounding", "grounding: own minus control", "tab:green"),
    ]
    for offset, (column, label, colour) in zip((-width, 0.0, width), bars):
        values = table[column].to_numpy(dtype=float)
        drawn = axes.bar(positions + offset, np.nan_to_num(values), width=width, label=label, color=colour)
        axes.bar_label(drawn, labels=["" if np.isnan(value) else f"{value:.1f}" for value in values], padding=2)
    grounding = table["grounding"].to_numpy(dtype=float)
    errors = np.abs(np.vstack([grounding - table["grounding_low"], table["grounding_high"] - grounding]))
    axes.errorbar(
        positions + width,
        grounding,
        yerr=np.nan_to_num(errors),
        fmt="none",
        ecolor="black",
        capsize=6,
        label="95% interval",
    )
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xticks(positions, [f"{model}\n({items} clips)" for model, items in zip(table["model"], table["items"])])
    axes.set_ylabel("% of the clip's tag words named")
    axes.set_title("Grounding: descriptions naming their own clip's tags rather than another clip's", pad=16)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=4, frameon=False)
    _save(figure, path)


def _new_figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=FIGURE_SIZE_INCHES, dpi=FIGURE_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # No bbox_inches="tight": it would change the pixel size that callers rely on.
    figure.savefig(path, format="png", dpi=FIGURE_DPI)
