from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from balsa_core.reports import epoch_boundaries, plot_loss_curve, smoothed


def png_size(path: Path) -> tuple[int, int]:
    assert path.stat().st_size > 0
    height, width = matplotlib.image.imread(path).shape[:2]
    return width, height


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


def test_plot_loss_curve_adds_the_validation_loss_and_a_collapse_monitor_panel(tmp_path: Path) -> None:
    log = loss_log(30, True)
    measured = log["step"] % 100 == 0
    log["val_loss"] = np.where(measured, log["loss"] + 0.2, np.nan)
    log["probe_spread"] = np.where(measured, 0.3, np.nan)
    log["probe_norm_ratio"] = np.where(measured, 1.5, np.nan)
    path = tmp_path / "loss.png"
    plot_loss_curve(log, path, title="adapter training")
    # The monitor panel sits below the loss panel: the figure is half as tall again.
    assert png_size(path) == (1200, 900)


def test_plot_loss_curve_without_monitor_values_keeps_one_panel(tmp_path: Path) -> None:
    log = loss_log(10, False).assign(val_loss=np.nan, probe_spread=np.nan, probe_norm_ratio=np.nan)
    path = tmp_path / "loss.png"
    plot_loss_curve(log, path, title="adapter training")
    assert png_size(path) == (1200, 600)
