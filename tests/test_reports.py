from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from balsa_core.evaluation.metrics import yes_no_metrics
from balsa_core.reports import (
    TABLE4_COLUMNS,
    epoch_boundaries,
    plot_loss_curve,
    plot_table4,
    smoothed,
    table4,
)


def metric_row(model: str, **overrides: float) -> dict:
    metrics = {
        "acc": 61.23456,
        "f1_yes": 70.0,
        "f1_no": 45.555,
        "f1_weighted": 58.004,
        "yes_rate": 80.0,
        "unparsed": 1.005,
    }
    return {"model": model, **metrics, **overrides}


def test_table4_columns_order_and_rounding() -> None:
    table = table4([metric_row("LISTEN"), metric_row("Qwen2-Audio", acc=50.0)])
    assert list(table.columns) == TABLE4_COLUMNS
    assert list(table["model"]) == ["LISTEN", "Qwen2-Audio"]
    assert table.loc[0, "hallucination_acc"] == 61.23
    assert table.loc[0, "hallucination_f1_no"] == 45.56
    assert table.loc[0, "hallucination_f1_weighted"] == 58.0
    assert table.loc[1, "hallucination_acc"] == 50.0


def test_table4_accepts_yes_no_metrics_rows() -> None:
    metrics = yes_no_metrics(["yes", "no", "no"], ["yes", "yes", None])
    table = table4([{"model": "baseline", **metrics}])
    assert table.loc[0, "hallucination_yes_rate"] == 66.67
    assert table.loc[0, "hallucination_unparsed"] == 33.33


def test_table4_row_missing_a_metric_is_an_error() -> None:
    row = metric_row("broken")
    del row["f1_no"]
    with pytest.raises(ValueError, match="f1_no"):
        table4([metric_row("fine"), row])


def png_size(path: Path) -> tuple[int, int]:
    assert path.stat().st_size > 0
    height, width = matplotlib.image.imread(path).shape[:2]
    return width, height


@pytest.mark.parametrize("model_count", [1, 3, 8])
def test_plot_table4_writes_a_1200_by_600_png(tmp_path: Path, model_count: int) -> None:
    table = table4([metric_row(f"model {index}", acc=10.0 * index) for index in range(model_count)])
    path = tmp_path / "figures" / "table4.png"
    plot_table4(table, path)
    assert png_size(path) == (1200, 600)


def test_plot_table4_of_no_models_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        plot_table4(table4([]), tmp_path / "empty.png")


def loss_log(points: int, with_epoch: bool) -> pd.DataFrame:
    steps = np.arange(1, points + 1) * 10
    log = pd.DataFrame(
        {
            "step": steps,
            "loss": 3.0 * np.exp(-steps / 500) + np.random.default_rng(0).normal(0, 0.05, points),
            "lr": 1e-4 * np.minimum(1.0, steps / 100),
        }
    )
    return log.assign(epoch=steps / 250) if with_epoch else log


@pytest.mark.parametrize(("points", "with_epoch"), [(1, False), (20, False), (200, True)])
def test_plot_loss_curve_writes_a_png(tmp_path: Path, points: int, with_epoch: bool) -> None:
    path = tmp_path / "loss.png"
    plot_loss_curve(loss_log(points, with_epoch), path, title="LISTEN adapter training")
    assert png_size(path) == (1200, 600)


def test_plot_loss_curve_needs_step_loss_lr(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lr"):
        plot_loss_curve(loss_log(5, False).drop(columns="lr"), tmp_path / "loss.png", title="x")


def test_epoch_boundaries_at_first_step_of_each_whole_epoch() -> None:
    log = pd.DataFrame({"step": [10, 20, 30, 40, 50], "epoch": [0.4, 0.8, 1.2, 1.6, 2.0]})
    assert epoch_boundaries(log) == [30.0, 50.0]
    assert epoch_boundaries(log.drop(columns="epoch")) == []


def test_smoothed_keeps_length_and_flattens_noise() -> None:
    noisy = pd.Series(np.tile([0.0, 2.0], 50))
    result = smoothed(noisy)
    assert len(result) == len(noisy)
    assert result.iloc[10:-10].between(0.5, 1.5).all()


def quality_report(target_set, corpus, targets, empty, leaking, dropped=0, checked=True, source="backbone"):
    return {
        "target_set": target_set,
        "corpus": corpus,
        "source": source,
        "targets": targets,
        "empty": empty,
        "cut_off": 1,
        "leak_checked": checked,
        "leaking": leaking if checked else None,
        "leak_rate": None,
        "leaking_targets": "drop",
        "dropped": dropped,
    }


def test_generation_quality_rows_per_corpus_and_a_total_over_corpora():
    from balsa_core.reports import QUALITY_COLUMNS, generation_quality_table

    table = generation_quality_table(
        [
            quality_report("positive", "b", 10, 0, None, checked=False),
            quality_report("negative", "b", 10, 2, 4, dropped=4),
            quality_report("negative", "a", 20, 0, 5, dropped=5),
            quality_report("difference", "pairs", 8, 0, None, checked=False),
        ]
    )
    assert list(table.columns) == QUALITY_COLUMNS
    assert list(zip(table["target_set"], table["corpus"])) == [
        ("difference", "pairs"),
        ("negative", "a"),
        ("negative", "b"),
        ("negative", "all"),
        ("positive", "b"),
    ]
    negative = table[table["target_set"] == "negative"].set_index("corpus")
    # The rate is over non-empty targets: 4 of 8 in b, 9 of 28 over both corpora.
    assert negative["leak_rate_pct"].to_dict() == {"a": 25.0, "b": 50.0, "all": 32.14}
    assert negative.loc["all", ["targets", "empty", "leaking", "dropped"]].tolist() == [30, 2, 9, 9]
    assert table.loc[table["target_set"] == "positive", ["leaking", "leak_rate_pct"]].isna().all(axis=None)
