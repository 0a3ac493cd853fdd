from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import (
    SHARED_FORMATS,
    check_result_schema,
    clean_rows,
    csv_records,
    reject,
    uses_real_sample,
    write_csv,
    write_wav,
)

from balsa_core.audio import AudioInfo
from balsa_core.metadata import MetadataError
from balsa_core.readers import AnnotationError, read_corpus
from balsa_core.readers import common as readers_common

HEADER = ["audiocap_id", "youtube_id", "start_time", "caption"]


def make_audiocaps(root: Path, splits: dict[str, Sequence[Sequence[object]]]) -> Path:
    for split, rows in splits.items():
        write_csv(root / f"{split}.csv", HEADER, rows)
    return root


def test_reads_one_caption_seed_per_row(tmp_path: Path) -> None:
    root = make_audiocaps(
        tmp_path,
        {
            "train": [
                [11542, "3eJ9RynJzP8", 80, "The wind is blowing, insects are singing"],
                [91139, "-r1nicOVtvk", 130, "  A woman talks nearby as water pours  "],
            ],
            "val": [
                [97151, "vfY_TJq7n_U", 130, "Ducks quack"],
                [97152, "vfY_TJq7n_U", 130, "Water splashes, ducks quack"],
            ],
            "test": [[103549, "7fmOlUlwoNg", 20, "Constant rattling noise"]],
        },
    )
    write_wav(root / "audio" / "Y3eJ9RynJzP8.wav", seconds=1.0)
    write_wav(root / "audio" / "-r1nicOVtvk.wav", seconds=0.5)
    write_wav(root / "audio" / "val" / "YvfY_TJq7n_U_130.wav", seconds=0.25, sample_rate=32000)

    result = read_corpus("ac", "audiocaps", root)

    check_result_schema(result)
    rows = result.rows.set_index("seed_id")
    assert list(rows.index) == ["ac/11542", "ac/91139", "ac/97151", "ac/97152"]
    # Seed by seed: its clip, split and caption.
    assert rows[["clip_id", "split", "seed_text"]].values.tolist() == [
        ["ac/Y3eJ9RynJzP8", "train", "The wind is blowing, insects are singing"],
        ["ac/-r1nicOVtvk", "train", "A woman talks nearby as water pours"],
        ["ac/YvfY_TJq7n_U_130", "val", "Ducks quack"],
        ["ac/YvfY_TJq7n_U_130", "val", "Water splashes, ducks quack"],
    ]
    assert set(rows["seed_kind"]) == {"caption"}
    assert list(rows["tags"]) == [[], [], [], []]
    val_audio = root / "audio" / "val" / "YvfY_TJq7n_U_130.wav"
    assert rows.loc["ac/97151", "audio_path"] == str(val_audio)
    assert list(rows["duration_s"]) == pytest.approx([1.0, 0.5, 0.25, 0.25])
    assert list(rows["sample_rate"]) == [16000, 16000, 32000, 32000]
    assert result.rejects.to_dict("records") == [
        reject("ac", root / "audio" / "Y7fmOlUlwoNg.wav", f"{root / 'test.csv'}:2")
    ]


@pytest.mark.parametrize(
    "file_name",
    [
        "YabcDEF_123.wav",
        "abcDEF_123.flac",
        "YabcDEF_123_30.wav",
        "abcDEF_123_30.flac",
        "YabcDEF_123_30.000_40.000.wav",
        "train/abcDEF_123.wav",
    ],
)
def test_finds_audio_under_common_names(tmp_path: Path, file_name: str) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abcDEF_123", 30, "A dog barks"]]})
    write_wav(root / "audio" / file_name)

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"]}).rows

    assert list(rows["audio_path"]) == [str(root / "audio" / file_name)]
    assert list(rows["clip_id"]) == [f"ac/{Path(file_name).stem}"]


def test_prefers_the_flat_y_prefixed_wav(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 30, "A dog barks"]]})
    for name in ("train/Yabc.wav", "abc.wav", "Yabc.flac", "Yabc.wav"):
        write_wav(root / "audio" / name)

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"]}).rows

    assert list(rows["audio_path"]) == [str(root / "audio" / "Yabc.wav")]


def test_audio_dir_option(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path / "captions", {"train": [[1, "abc", 0, "A dog barks"]]})
    elsewhere = write_wav(tmp_path / "downloads" / "Yabc.wav")

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"], "audio_dir": str(elsewhere.parent)}).rows

    assert list(rows["audio_path"]) == [str(elsewhere)]


def test_probes_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    captions = [[id_, "abc", 0, f"caption {id_}"] for id_ in range(5)]
    root = make_audiocaps(tmp_path, {"test": captions})
    write_wav(root / "audio" / "Yabc.wav")
    probed: list[str] = []
    real_probe = readers_common.probe_audio

    def counting_probe(path: str) -> AudioInfo:
        probed.append(path)
        return real_probe(path)

    monkeypatch.setattr(readers_common, "probe_audio", counting_probe)

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["test"]}).rows

    assert len(rows) == 5
    assert rows["clip_id"].nunique() == 1
    assert probed == [str(root / "audio" / "Yabc.wav")]


def test_without_probe_keeps_rows_of_missing_audio(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[7, "abc", 0, "A dog barks"]]})

    row = clean_rows(read_corpus("ac", "audiocaps", root, {"splits": ["train"], "probe_audio": False})).iloc[0]

    assert row["clip_id"] == "ac/Yabc"
    assert row["audio_path"] == str(root / "audio" / "Yabc.wav")
    assert math.isnan(row["duration_s"])
    assert row["sample_rate"] == 0


def test_listed_split_file_missing_names_it(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 0, "x"]], "test": [[2, "def", 0, "y"]]})

    with pytest.raises(AnnotationError) as raised:
        read_corpus("ac", "audiocaps", root, {"probe_audio": False})

    assert str(root / "val.csv") in str(raised.value)


def test_unlisted_split_file_may_be_absent(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 0, "x"]], "test": [[2, "def", 0, "y"]]})

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train", "test"], "probe_audio": False}).rows

    assert list(rows["split"]) == ["train", "test"]


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "train.csv", ["audiocap_id", "youtube_id", "start_time"], [[1, "abc", 0]])

    with pytest.raises(AnnotationError) as raised:
        read_corpus("ac", "audiocaps", tmp_path, {"splits": ["train"]})

    assert str(csv_path) in str(raised.value)
    assert "caption" in str(raised.value)


@pytest.mark.parametrize(
    ("row", "problem"),
    [([1, "abc", 0, "   "], "caption"), ([1, "abc", "soon", "x"], "start_time")],
)
def test_bad_row_names_file_line_and_column(tmp_path: Path, row: list[object], problem: str) -> None:
    make_audiocaps(tmp_path, {"train": [[0, "ok", 0, "fine"], row]})

    with pytest.raises(AnnotationError, match=problem) as raised:
        read_corpus("ac", "audiocaps", tmp_path, {"splits": ["train"]})

    assert f"{tmp_path / 'train.csv'}:3" in str(raised.value)


def test_ids_stay_verbatim(tmp_path: Path) -> None:
    # Ids that look like numbers or NA markers must not be parsed as such.
    root = make_audiocaps(tmp_path, {"train": [["007", "nan", 0, "NA"], ["8", "1e5", 0, "x"]]})

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"], "probe_audio": False}).rows

    assert list(rows["seed_id"]) == ["ac/007", "ac/8"]
    assert list(rows["clip_id"]) == ["ac/Ynan", "ac/Y1e5"]
    assert list(rows["seed_text"]) == ["NA", "x"]


def test_duplicate_seed_ids_across_splits_fail_validation(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 0, "x"]], "val": [[1, "def", 0, "y"]]})

    with pytest.raises(MetadataError, match="seed_id not unique"):
        read_corpus("ac", "audiocaps", root, {"splits": ["train", "val"], "probe_audio": False})


@uses_real_sample(SHARED_FORMATS / "audiocaps")
def test_real_audiocaps_samples() -> None:
    root = SHARED_FORMATS / "audiocaps"

    rows = clean_rows(read_corpus("audiocaps", "audiocaps", root, {"probe_audio": False}))

    for split in ("train", "val", "test"):
        records = csv_records(root / f"{split}.csv")
        split_rows = rows[rows["split"] == split]
        assert len(records) == len(split_rows) == 300
        assert list(split_rows["seed_id"]) == [f"audiocaps/{r['audiocap_id']}" for r in records]
        assert list(split_rows["seed_text"]) == [r["caption"].strip() for r in records]
    wind = rows.set_index("seed_id").loc["audiocaps/11542"]
    assert wind["seed_text"] == "The wind is blowing, insects are singing, and rustling occurs"
    assert wind["clip_id"] == "audiocaps/Y3eJ9RynJzP8"
    assert wind["split"] == "train"


@uses_real_sample(SHARED_FORMATS / "audiocaps")
def test_real_audiocaps_without_audio_rejects_every_row() -> None:
    result = read_corpus("audiocaps", "audiocaps", SHARED_FORMATS / "audiocaps")

    assert result.rows.empty
    assert len(result.rejects) == 900
    assert set(result.rejects["reason"]) == {"missing audio file"}
