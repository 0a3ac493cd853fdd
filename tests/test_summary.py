import logging
import math

import pandas as pd

from balsa_core.summary import SUMMARY_COLUMNS, data_summary


def metadata(clips: list[tuple[str, str, int, str, float]]) -> pd.DataFrame:
    """Rows for (clip_id, corpus, number of seeds, split, duration_s); seeds are clip_id/s<k>."""
    rows = [
        {"seed_id": f"{clip_id}/s{k}", "clip_id": clip_id, "corpus": corpus, "split": split, "duration_s": duration}
        for clip_id, corpus, seeds, split, duration in clips
        for k in range(seeds)
    ]
    return pd.DataFrame(rows, columns=["seed_id", "clip_id", "corpus", "split", "duration_s"])


def expected(rows: list[tuple[str, float, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype(
        {"duration_h": "float64", "clips": "int64", "seeds": "int64", "training_samples": "int64"}
    )


def assert_summary_equal(actual: pd.DataFrame, rows: list[tuple[str, float, int, int, int]]) -> None:
    pd.testing.assert_frame_equal(actual, expected(rows), check_dtype=False)
    assert list(actual.dtypes.astype(str))[1:] == ["float64", "int64", "int64", "int64"]


def test_hand_computed_table_counts_each_clip_once_and_every_seed():
    frame = metadata(
        [
            ("esc50-1", "esc50", 1, "train", 1200.0),
            ("esc50-2", "esc50", 1, "train", 1200.0),
            ("esc50-3", "esc50", 1, "train", 1200.0),
            ("clotho-a", "clotho", 5, "train", 5400.0),
            ("clotho-b", "clotho", 3, "train", 1800.0),
            ("clotho-val", "clotho", 5, "val", 9000.0),
            ("audiocaps-test", "audiocaps", 1, "test", 3600.0),
        ]
    )
    # clotho: (5400 + 1800) s = 2 h from 2 clips, 8 captions; esc50: 3 x 1200 s = 1 h, 3 tag seeds.
    # Every seed yields one positive and one negative target.
    summary = data_summary(frame, {"positive": 1, "negative": 1})
    assert_summary_equal(
        summary,
        [
            ("clotho", 2.0, 2, 8, 16),
            ("esc50", 1.0, 3, 3, 6),
            ("Total", 3.0, 5, 11, 22),
        ],
    )


def test_hours_are_rounded_and_the_total_adds_the_rounded_rows():
    frame = metadata(
        [("a-1", "a", 2, "train", 100.0), ("b-1", "b", 1, "train", 100.0), ("c-1", "c", 1, "train", 100.0)]
    )
    # 100 s = 0.0277... h shows as 0.03; the total is the 0.09 the rows add up to, not 300 s = 0.08 h.
    summary = data_summary(frame, {"positive": 2})
    assert_summary_equal(
        summary,
        [("a", 0.03, 1, 2, 4), ("b", 0.03, 1, 1, 2), ("c", 0.03, 1, 1, 2), ("Total", 0.09, 3, 4, 8)],
    )


def test_unknown_durations_count_as_zero_and_are_reported(caplog):
    frame = metadata(
        [
            ("clotho-a", "clotho", 2, "train", 3600.0),
            ("clotho-b", "clotho", 2, "train", math.nan),
            ("esc50-1", "esc50", 1, "train", math.nan),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="balsa_core.summary"):
        summary = data_summary(frame, {"positive": 1})
    assert_summary_equal(summary, [("clotho", 1.0, 2, 4, 4), ("esc50", 0.0, 1, 1, 1), ("Total", 1.0, 3, 5, 5)])
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "2 training clip(s)" in record.getMessage()
    assert "clotho: 1" in record.getMessage() and "esc50: 1" in record.getMessage()


def test_known_durations_log_no_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="balsa_core.summary"):
        data_summary(metadata([("a-1", "a", 1, "train", 10.0)]), {"positive": 1})
    assert caplog.records == []


def test_no_training_rows_give_a_zero_total_only():
    frame = metadata([("v-1", "clotho", 3, "val", 60.0)])
    assert_summary_equal(data_summary(frame, {"positive": 1}), [("Total", 0.0, 0, 0, 0)])
