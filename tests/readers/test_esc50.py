"""ESC-50's own layout; what it shares with UrbanSound8K as a fold-based corpus is in test_folds.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    SHARED_FORMATS,
    check_result_schema,
    clean_rows,
    csv_records,
    esc50_row,
    make_esc50,
    uses_real_sample,
    write_wav,
)

from balsa_core.readers import read_corpus


def test_reads_one_tags_seed_per_clip(tmp_path: Path) -> None:
    root = make_esc50(
        tmp_path / "esc50",
        [
            esc50_row("1-100032-A-0.wav", 1, "dog"),
            esc50_row("4-102844-A-49.wav", 4, "hand_saw"),
            esc50_row("5-103415-A-2.wav", 5, "crying_baby"),
        ],
    )
    write_wav(root / "audio" / "1-100032-A-0.wav", seconds=1.0, sample_rate=44100)
    write_wav(root / "audio" / "4-102844-A-49.wav", seconds=0.5, sample_rate=44100)
    write_wav(root / "audio" / "5-103415-A-2.wav", seconds=0.2, sample_rate=22050)

    rows = clean_rows(read_corpus("esc", "esc50", root, {"val_folds": [4]})).set_index("seed_id")

    assert list(rows.index) == ["esc/1-100032-A-0", "esc/4-102844-A-49", "esc/5-103415-A-2"]
    assert list(rows["clip_id"]) == list(rows.index)
    assert list(rows["split"]) == ["train", "val", "test"]
    assert list(rows["tags"]) == [["dog"], ["hand saw"], ["crying baby"]]
    assert list(rows["seed_text"]) == ["dog", "hand saw", "crying baby"]
    assert set(rows["seed_kind"]) == {"tags"}
    assert set(rows["corpus"]) == {"esc"}
    assert list(rows["audio_path"]) == [
        str(root / "audio" / name) for name in ("1-100032-A-0.wav", "4-102844-A-49.wav", "5-103415-A-2.wav")
    ]
    assert list(rows["duration_s"]) == pytest.approx([1.0, 0.5, 0.2])
    assert list(rows["sample_rate"]) == [44100, 44100, 22050]


@uses_real_sample(SHARED_FORMATS / "esc50" / "esc50.csv")
def test_real_esc50_sample(tmp_path: Path) -> None:
    real_csv = SHARED_FORMATS / "esc50" / "esc50.csv"
    # The reader wants the corpus layout; link the real file into it rather than copy it.
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "esc50.csv").symlink_to(real_csv)
    records = csv_records(real_csv)

    result = read_corpus("esc50", "esc50", tmp_path, {"probe_audio": False})

    check_result_schema(result)
    rows = result.rows
    assert len(records) == 414
    assert len(rows) == 414
    assert list(rows["seed_id"]) == [f"esc50/{Path(r['filename']).stem}" for r in records]
    first = rows.iloc[0]
    assert first["seed_id"] == "esc50/2-103426-A-3"
    assert first["tags"] == ["cow"]
    assert first["seed_text"] == "cow"
    assert first["audio_path"] == str(tmp_path / "audio" / "2-103426-A-3.wav")
    assert "crying baby" in set(rows["seed_text"])
    fold_of = {f"esc50/{Path(r['filename']).stem}": r["fold"] for r in records}
    test_rows = rows[rows["split"] == "test"]
    assert len(test_rows) == sum(r["fold"] == "5" for r in records) > 0
    assert all(fold_of[seed_id] == "5" for seed_id in test_rows["seed_id"])
    assert set(rows["split"]) == {"train", "test"}
