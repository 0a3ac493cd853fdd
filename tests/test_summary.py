import logging
import math

import pandas as pd
import pytest

from balsa_core.summary import SUMMARY_COLUMNS, data_summary

Clip = tuple[str, str, int, str, float]


def metadata(clips: list[Clip]) -> pd.DataFrame:
    """Rows for (clip_id, corpus, number of seeds, split, duration_s); seeds are clip_id/s<k>."""
    rows = [
        {"seed_id": f"{clip_id}/s{k}", "clip_id": clip_id, "corpus": corpus, "split": split, "duration_s": duration}
        for clip_id, corpus, seeds, split, duration in clips
        for k in range(seeds)
    ]
    return pd.DataFrame(rows, columns=["seed_id", "clip_id", "corpus", "split", "duration_s"])


def numbered_clips(corpus: str, durations: list[float], seeds: int = 1) -> list[Clip]:
    """Training clips <corpus>-1, <corpus>-2, ... of ``corpus``, one per duration."""
    return [(f"{corpus}-{number}", corpus, seeds, "train", duration) for number, duration in enumerate(durations, 1)]


Row = tuple[str, float, float, int, float, int, int, int]


def expected(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def assert_summary_equal(actual: pd.DataFrame, rows: list[Row]) -> None:
    pd.testing.assert_frame_equal(actual, expected(rows), check_dtype=False)
    hours, counts = "float64", "int64"
    assert list(actual.dtypes.astype(str))[1:] == [hours, hours, counts, hours, counts, counts, counts]


def single_audio(corpus: str, hours: float, samples_per_seed: int, clips: int, seeds: int) -> Row:
    """A row without multi-audio samples; Equi. Duration is the hours times the samples per seed."""
    return (corpus, hours, round(hours * samples_per_seed, 2), seeds * samples_per_seed, 0.0, 0, clips, seeds)


@pytest.mark.parametrize(
    ("clips", "expected"),
    [
        pytest.param(
            [
                *numbered_clips("esc50", [1200.0] * 3),
                ("clotho-a", "clotho", 5, "train", 5400.0),
                ("clotho-b", "clotho", 3, "train", 1800.0),
                ("clotho-val", "clotho", 5, "val", 9000.0),
                ("audiocaps-test", "audiocaps", 1, "test", 3600.0),
            ],
            # clotho: (5400 + 1800) s = 2 h from 2 clips, 8 captions; esc50: 3 x 1200 s = 1 h, 3 tag seeds.
            [
                single_audio("clotho", 2.0, 2, 2, 8),
                single_audio("esc50", 1.0, 2, 3, 3),
                single_audio("Total", 3.0, 2, 5, 11),
            ],
            id="each clip counts once and every seed",
        ),
        pytest.param(
            [("a-1", "a", 2, "train", 100.0), ("b-1", "b", 1, "train", 100.0), ("c-1", "c", 1, "train", 100.0)],
            # 100 s = 0.0277... h shows as 0.03; the total is the 0.09 the rows add up to, not 300 s = 0.08 h.
            # Equi. Duration rounds 200 s = 0.0555... h to 0.06, and its total adds those rows as well.
            [
                ("a", 0.03, 0.06, 4, 0.0, 0, 1, 2),
                ("b", 0.03, 0.06, 2, 0.0, 0, 1, 1),
                ("c", 0.03, 0.06, 2, 0.0, 0, 1, 1),
                ("Total", 0.09, 0.18, 8, 0.0, 0, 3, 4),
            ],
            id="hours are rounded and the total adds the rounded rows",
        ),
    ],
)
def test_hand_computed_table(clips: list[Clip], expected: list[Row]):
    # A variant trains on two targets per seed (one positive and one negative, say): the papers' 2N.
    assert_summary_equal(data_summary(metadata(clips), 2), expected)


def test_unknown_durations_count_as_zero_and_are_reported(caplog):
    frame = metadata(
        [
            ("clotho-a", "clotho", 2, "train", 3600.0),
            ("clotho-b", "clotho", 2, "train", math.nan),
            ("esc50-1", "esc50", 1, "train", math.nan),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="balsa_core.summary"):
        summary = data_summary(frame, 1)
    assert_summary_equal(
        summary,
        [
            single_audio("clotho", 1.0, 1, 2, 4),
            single_audio("esc50", 0.0, 1, 1, 1),
            single_audio("Total", 1.0, 1, 3, 5),
        ],
    )
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "2 training clip(s)" in record.getMessage()
    assert "clotho: 1" in record.getMessage() and "esc50: 1" in record.getMessage()


def test_known_durations_log_no_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="balsa_core.summary"):
        data_summary(metadata([("a-1", "a", 1, "train", 10.0)]), 1)
    assert caplog.records == []


def test_no_training_rows_give_a_zero_total_only():
    frame = metadata([("v-1", "clotho", 3, "val", 60.0)])
    assert_summary_equal(data_summary(frame, 1), [single_audio("Total", 0.0, 1, 0, 0)])


def pairs_of(*pairs: tuple[str, str, str]) -> pd.DataFrame:
    """(first clip, second clip, first clip's corpus) rows of a pairs table."""
    return pd.DataFrame(pairs, columns=["first_clip_id", "second_clip_id", "first_corpus"])


def test_multi_audio_columns_count_each_pair_per_sample_under_its_first_clips_corpus():
    frame = metadata(
        [
            *numbered_clips("esc50", [1800.0, 1800.0, 3600.0]),
            *numbered_clips("clotho", [3600.0, 3600.0], seeds=5),
            *numbered_clips("vocalsound", [3600.0]),
        ]
    )
    # esc50's three pairs hold 1 + 1.5 + 1.5 = 4 h of audio; clotho's one pair 2 h; vocalsound pairs nothing.
    pairs = pairs_of(
        ("esc50-1", "esc50-2", "esc50"),
        ("esc50-2", "esc50-3", "esc50"),
        ("esc50-3", "esc50-1", "esc50"),
        ("clotho-1", "clotho-2", "clotho"),
    )
    # Two targets per pair (the papers' 2M): twice the pairs and twice their audio.
    summary = data_summary(frame, 2, pairs, samples_per_pair=2)
    assert_summary_equal(
        summary,
        [
            ("clotho", 2.0, 4.0, 20, 4.0, 2, 2, 10),
            ("esc50", 2.0, 4.0, 6, 8.0, 6, 3, 3),
            ("vocalsound", 1.0, 2.0, 2, 0.0, 0, 1, 1),
            ("Total", 5.0, 10.0, 28, 12.0, 8, 6, 14),
        ],
    )
    assert_summary_equal(data_summary(frame, 2, pairs, samples_per_pair=0), data_summary(frame, 2).values.tolist())
