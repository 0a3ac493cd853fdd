"""UrbanSound8K's own layout (a folder per fold); what it shares with ESC-50 is in test_folds.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import (
    SHARED_FORMATS,
    URBANSOUND8K_HEADER,
    check_result_schema,
    clean_rows,
    csv_records,
    reject,
    us8k_row,
    uses_real_sample,
    write_csv,
    write_wav,
)

from balsa_core.readers import urbansound8k

REAL_CSV = SHARED_FORMATS / "urbansound8k" / "UrbanSound8K.csv"


def make_us8k(root: Path, rows: Sequence[Sequence[object]]) -> Path:
    return write_csv(root / "metadata" / "UrbanSound8K.csv", URBANSOUND8K_HEADER, rows)


def test_reads_one_tags_seed_per_slice_from_its_fold_folder(tmp_path: Path) -> None:
    make_us8k(
        tmp_path,
        [
            us8k_row("100032-3-0-0.wav", 5, "dog_bark"),
            us8k_row("100263-2-0-117.wav", 3, "children_playing"),
            us8k_row("100648-1-0-0.wav", 10, "car_horn"),
        ],
    )
    # The corpus mixes rates, bit depths and channel counts.
    write_wav(tmp_path / "audio" / "fold5" / "100032-3-0-0.wav", 0.5, 44100)
    write_wav(tmp_path / "audio" / "fold3" / "100263-2-0-117.wav", 1.0, 48000, channels=2, subtype="PCM_24")
    write_wav(tmp_path / "audio" / "fold10" / "100648-1-0-0.wav", 0.2, 22050, subtype="PCM_U8")

    rows = clean_rows(urbansound8k.read("us8k", tmp_path, {"val_folds": [3]}))

    assert list(rows["seed_id"]) == ["us8k/100032-3-0-0", "us8k/100263-2-0-117", "us8k/100648-1-0-0"]
    assert list(rows["clip_id"]) == list(rows["seed_id"])
    assert list(rows["split"]) == ["train", "val", "test"]
    assert list(rows["tags"]) == [["dog bark"], ["children playing"], ["car horn"]]
    assert list(rows["seed_text"]) == ["dog bark", "children playing", "car horn"]
    assert set(rows["seed_kind"]) == {"tags"}
    assert list(rows["audio_path"]) == [
        str(tmp_path / "audio" / "fold5" / "100032-3-0-0.wav"),
        str(tmp_path / "audio" / "fold3" / "100263-2-0-117.wav"),
        str(tmp_path / "audio" / "fold10" / "100648-1-0-0.wav"),
    ]
    assert list(rows["duration_s"]) == pytest.approx([0.5, 1.0, 0.2])
    assert list(rows["sample_rate"]) == [44100, 48000, 22050]


def test_missing_audio_is_rejected_with_its_line(tmp_path: Path) -> None:
    csv_path = make_us8k(tmp_path, [us8k_row("1-0-0-0.wav", 1, "siren"), us8k_row("2-0-0-0.wav", 2, "siren")])
    write_wav(tmp_path / "audio" / "fold1" / "1-0-0-0.wav", 0.5, 16000)
    # In the wrong fold's folder: still missing.
    write_wav(tmp_path / "audio" / "fold1" / "2-0-0-0.wav", 0.5, 16000)

    result = urbansound8k.read("us8k", tmp_path, {})

    check_result_schema(result)
    assert list(result.rows["clip_id"]) == ["us8k/1-0-0-0"]
    assert result.rejects.to_dict("records") == [
        reject("us8k", tmp_path / "audio" / "fold2" / "2-0-0-0.wav", f"{csv_path}:3")
    ]


def link_real_csv(root: Path) -> None:
    # The reader wants the corpus layout; link the real file into it rather than copy it.
    (root / "metadata").mkdir()
    (root / "metadata" / "UrbanSound8K.csv").symlink_to(REAL_CSV)


@uses_real_sample(REAL_CSV)
def test_real_urbansound8k_sample(tmp_path: Path) -> None:
    link_real_csv(tmp_path)
    records = csv_records(REAL_CSV)

    rows = clean_rows(urbansound8k.read("urbansound8k", tmp_path, {"probe_audio": False}))

    assert len(records) == len(rows) == 11
    assert list(rows["seed_id"]) == [f"urbansound8k/{Path(r['slice_file_name']).stem}" for r in records]
    assert list(rows["audio_path"]) == [
        str(tmp_path / "audio" / f"fold{r['fold']}" / r["slice_file_name"]) for r in records
    ]
    assert list(rows["tags"]) == [[r["class"].replace("_", " ")] for r in records]
    first = rows.iloc[0]
    assert first["seed_id"] == "urbansound8k/100032-3-0-0"
    assert first["tags"] == ["dog bark"]
    assert first["audio_path"] == str(tmp_path / "audio" / "fold5" / "100032-3-0-0.wav")
    test_rows = rows[rows["split"] == "test"]
    assert list(test_rows["seed_id"]) == ["urbansound8k/100648-1-0-0", "urbansound8k/102857-5-0-0"]
    assert set(rows["split"]) == {"train", "test"}


@uses_real_sample(REAL_CSV)
def test_real_urbansound8k_sample_without_audio_rejects_every_row(tmp_path: Path) -> None:
    link_real_csv(tmp_path)

    result = urbansound8k.read("urbansound8k", tmp_path, {})

    check_result_schema(result)
    assert result.rows.empty
    assert len(result.rejects) == 11
    assert set(result.rejects["reason"]) == {"missing audio file"}
