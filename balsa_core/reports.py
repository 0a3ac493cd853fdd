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

METRIC_PREFIX = "hallucination_"
TABLE4_METRICS = ["acc", "f1_yes", "f1_no", "f1_weighted", "yes_rate", "unparsed"]
TABLE4_COLUMNS = ["model", *(METRIC_PREFIX + metric for metric in TABLE4_METRICS)]

# The bars of the hallucination figure, named as in the papers' tables; the unparsed
# share is left out because it is a data-quality check, not a result.
TABLE4_PLOTTED = {
    "hallucination_acc": "Accuracy",
    "hallucination_f1_yes": "F1 (yes)",
    "hallucination_f1_no": "F1 (no)",
    "hallucination_f1_weighted": "Weighted F1",
    "hallucination_yes_rate": "Yes-rate",
}

FIGURE_SIZE_INCHES = (12.0, 6.0)
FIGURE_DPI = 100  # 1200 x 600 pixels
SMOOTHING_MIN_POINTS = 20


QUALITY_COUNTS = ["targets", "empty", "cut_off", "leaking", "dropped"]
QUALITY_COLUMNS = ["target_set", "corpus", "source", *QUALITY_COUNTS, "leak_rate_pct", "leaking_targets"]


def generation_quality_table(reports: Sequence[Mapping]) -> pd.DataFrame:
    """One row per (target set, corpus) and an ``all`` row per set over several corpora.

    ``leaking`` and ``leak_rate_pct`` are empty for sets whose targets are not checked for
    leaks (only absent-sound sets are); the rate is over non-empty targets.
    """
    rows = pd.DataFrame(list(reports))
    if rows.empty:
        return pd.DataFrame(columns=QUALITY_COLUMNS)
    sections = []
    for _, group in rows.sort_values(["target_set", "corpus"]).groupby("target_set", sort=True):
        sections.append(group)
        if len(group) > 1:
            total = {"target_set": group["target_set"].iloc[0], "corpus": "all", "source": group["source"].iloc[0]}
            total.update({column: group[column].sum(min_count=1) for column in QUALITY_COUNTS})
            total.update(leak_checked=group["leak_checked"].all(), leaking_targets=group["leaking_targets"].iloc[0])
            sections.append(pd.DataFrame([total]))
    table = pd.concat(sections, ignore_index=True)
    non_empty = table["targets"] - table["empty"]
    rate = 100.0 * table["leaking"].astype(float) / non_empty.where(non_empty > 0)
    table["leak_rate_pct"] = rate.where(table["leak_checked"].astype(bool)).round(2)
    table.loc[~table["leak_checked"].astype(bool), "leaking"] = None
    return table[QUALITY_COLUMNS]


def table4(rows: Sequence[Mapping]) -> pd.DataFrame:
    """One row per model, in the given order, metrics prefixed and rounded to 2 decimals."""
    for position, row in enumerate(rows):
        missing = [key for key in ["model", *TABLE4_METRICS] if key not in row]
        if missing:
            raise ValueError(f"table4: row {position} lacks {missing}")
    records = [
        {"model": row["model"], **{METRIC_PREFIX + key: float(row[key]) for key in TABLE4_METRICS}} for row in rows
    ]
    return pd.DataFrame(records, columns=TABLE4_COLUMNS).round(2)


def plot_table4(table: pd.DataFrame, path: Path) -> None:
    """Grouped bars: one group per metric, one bar per model, values printed on the bars."""
    if table.empty:
        raise ValueError("plot_table4: the table has no models")
    figure, axes = _new_figure()
    group_positions = np.arange(len(TABLE4_PLOTTED))
    bar_width = 0.8 / len(table)
    for index, row in enumerate(table.itertuples(index=False)):
        values = [getattr(row, column) for column in TABLE4_PLOTTED]
        offsets = group_positions - 0.4 + bar_width * (index + 0.5)
        bars = axes.bar(offsets, values, width=bar_width, label=str(row.model))
        axes.bar_label(bars, fmt="%.1f", padding=2, fontsize=_value_label_size(len(table)))
    axes.set_xticks(group_positions, list(TABLE4_PLOTTED.values()))
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.set_title("Audio hallucination (yes/no probing)", pad=16)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    # Below the axes, so bars near 100 % never hide behind it.
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=min(len(table), 4), frameon=False)
    _save(figure, path)


def plot_loss_curve(loss: pd.DataFrame, path: Path, title: str) -> None:
    """Training loss against step (smoothed too when long enough), learning rate on a twin axis."""
    missing = [column for column in ("step", "loss", "lr") if column not in loss.columns]
    if missing:
        raise ValueError(f"plot_loss_curve: missing column(s) {missing}")
    if loss.empty:
        raise ValueError("plot_loss_curve: no logged steps")
    loss = loss.sort_values("step")
    figure, loss_axes = _new_figure()
    lines = loss_axes.plot(loss["step"], loss["loss"], color="tab:blue", alpha=0.45, label="loss")
    if len(loss) > SMOOTHING_MIN_POINTS:
        lines += loss_axes.plot(
            loss["step"],
            smoothed(loss["loss"]),
            color="tab:blue",
            linewidth=2,
            label="loss (smoothed)",
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


def _value_label_size(model_count: int) -> float:
    # Narrow bars need smaller numbers to stay legible side by side.
    return 9.0 if model_count <= 3 else 7.0 if model_count <= 6 else 5.5


def _new_figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=FIGURE_SIZE_INCHES, dpi=FIGURE_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # No bbox_inches="tight": it would change the pixel size that callers rely on.
    figure.savefig(path, format="png", dpi=FIGURE_DPI)
