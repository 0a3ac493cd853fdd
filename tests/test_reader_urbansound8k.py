from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from balsa_core.metadata import METADATA_SCHEMA, REJECTS_SCHEMA, metadata_table, validate_metadata
from balsa_core.readers import urbansound8k
from balsa_core.readers.common import AnnotationError, ReadResult

SHARED_FORMATS = Path(__file__).resolve().parents[1].parent / "shared" / "formats"
HEADER = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]


def write_wav(path: Path, seconds: float, sample_rate: int, channels: int = 1, subtype: str = "PCM_16") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros((int(seconds * sample_rate), channels), np.float32), sample_rate, subtype=subtype)
    return path


def us8k_row(slice_file_name: str, fold: int | str, class_name: str) -> list[object]:
    fs_id = slice_file_name.split("-")[0]
    return [slice_file_name, fs_id, 0, 4, 1, fold, 0, class_name]


def make_us8k(root: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> Path:
    path = root / "metadata" / "UrbanSound8K.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def check_result_schema(result: ReadResult) -> None:
    assert list(result.rows.columns) == METADATA_SCHEMA.names
    assert list(result.rejects.columns) == REJECTS_SCHEMA.names
    validate_metadata(result.rows)
    metadata_table(result.rows)


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

    result = urbansound8k.read("us8k", tmp_path, {"val_folds": [3]})

    check_result_schema(result)
    assert result.rejects.empty
    rows = result.rows
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


def test_default_split_is_fold_10_test_rest_train(tmp_path: Path) -> None:
    make_us8k(tmp_path, [us8k_row(f"{fold}-0-0-0.wav", fold, "siren") for fold in range(1, 11)])

    rows = urbansound8k.read("us8k", tmp_path, {"probe_audio": False}).rows

    assert list(rows["split"]) == ["train"] * 9 + ["test"]


def test_custom_folds(tmp_path: Path) -> None:
    make_us8k(tmp_path, [us8k_row(f"{fold}-0-0-0.wav", fold, "siren") for fold in range(1, 11)])

    rows = urbansound8k.read("us8k", tmp_path, {"test_folds": [1, 2], "val_folds": [9], "probe_audio": False}).rows

    assert list(rows["split"]) == ["test", "test"] + ["train"] * 6 + ["val", "train"]


def test_missing_audio_is_rejected_with_its_line(tmp_path: Path) -> None:
    csv_path = make_us8k(tmp_path, [us8k_row("1-0-0-0.wav", 1, "siren"), us8k_row("2-0-0-0.wav", 2, "siren")])
    write_wav(tmp_path / "audio" / "fold1" / "1-0-0-0.wav", 0.5, 16000)
    # In the wrong fold's folder: still missing.
    write_wav(tmp_path / "audio" / "fold1" / "2-0-0-0.wav", 0.5, 16000)

    result = urbansound8k.read("us8k", tmp_path, {})

    check_result_schema(result)
    assert list(result.rows["clip_id"]) == ["us8k/1-0-0-0"]
    assert result.rejects.to_dict("records") == [
        {
            "corpus": "us8k",
            "audio_path": str(tmp_path / "audio" / "fold2" / "2-0-0-0.wav"),
            "source": f"{csv_path}:3",
            "reason": "missing audio file",
        }
    ]


def test_missing_annotation_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError) as raised:
        urbansound8k.read("us8k", tmp_path, {})

    assert str(tmp_path / "metadata" / "UrbanSound8K.csv") in str(raised.value)


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    csv_path = make_us8k(tmp_path, [["1-0-0-0.wav", 1, 1, 0]], header=["slice_file_name", "fsID", "fold", "classID"])

    with pytest.raises(AnnotationError) as raised:
        urbansound8k.read("us8k", tmp_path, {"probe_audio": False})

    assert str(csv_path) in str(raised.value)
    assert "'class'" in str(raised.value)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (us8k_row("2-0-0-0.wav", "x", "siren"), "fold"),
        (us8k_row("2-0-0-0.wav", 0, "siren"), "fold"),
        (us8k_row("2-0-0-0.wav", 11, "siren"), "fold"),
        (us8k_row("2-0-0-0.wav", 2, " "), "class"),
        (us8k_row("", 2, "siren"), "slice_file_name"),
    ],
)
def test_bad_row_names_file_line_and_column(tmp_path: Path, row: list[object], problem: str) -> None:
    csv_path = make_us8k(tmp_path, [us8k_row("1-0-0-0.wav", 1, "siren"), row])

    with pytest.raises(AnnotationError, match=problem) as raised:
        urbansound8k.read("us8k", tmp_path, {"probe_audio": False})

    assert f"{csv_path}:3" in str(raised.value)


@pytest.mark.parametrize(
    "options",
    [
        {"test_folds": "10"},
        {"test_folds": [11]},
        {"val_folds": [0]},
        {"val_folds": [10]},
        {"val_folds": [True]},
        {"probe_audio": "false"},
    ],
)
def test_bad_option_values_name_the_option(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        urbansound8k.annotation_files(tmp_path, options)


def test_annotation_files(tmp_path: Path) -> None:
    assert urbansound8k.annotation_files(tmp_path, {}) == [tmp_path / "metadata" / "UrbanSound8K.csv"]
    with pytest.raises(ValueError, match="'test_fold'"):
        urbansound8k.annotation_files(tmp_path, {"test_fold": [1]})


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_FORMATS.is_dir(), reason=f"real format samples not found at {SHARED_FORMATS}")
def test_real_urbansound8k_sample(tmp_path: Path) -> None:
    real_csv = SHARED_FORMATS / "urbansound8k" / "UrbanSound8K.csv"
    # The reader wants the corpus layout; link the real file into it rather than copy it.
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "UrbanSound8K.csv").symlink_to(real_csv)
    with real_csv.open(newline="") as handle:
        records = list(csv.DictReader(handle))

    result = urbansound8k.read("urbansound8k", tmp_path, {"probe_audio": False})

    check_result_schema(result)
    rows = result.rows
    assert result.rejects.empty
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


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_FORMATS.is_dir(), reason=f"real format samples not found at {SHARED_FORMATS}")
def test_real_urbansound8k_sample_without_audio_rejects_every_row(tmp_path: Path) -> None:
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "UrbanSound8K.csv").symlink_to(SHARED_FORMATS / "urbansound8k" / "UrbanSound8K.csv")

    result = urbansound8k.read("urbansound8k", tmp_path, {})

    check_result_schema(result)
    assert result.rows.empty
    assert len(result.rejects) == 11
    assert set(result.rejects["reason"]) == {"missing audio file"}
