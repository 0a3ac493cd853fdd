from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from balsa_core.audio import AudioInfo
from balsa_core.metadata import (
    METADATA_SCHEMA,
    REJECTS_SCHEMA,
    MetadataError,
    metadata_table,
    validate_metadata,
)
from balsa_core.readers import (
    READERS,
    AnnotationError,
    ReadResult,
    annotation_files,
    read_corpus,
)
from balsa_core.readers import common as readers_common

SHARED_FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"

ESC50_HEADER = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
AUDIOCAPS_HEADER = ["audiocap_id", "youtube_id", "start_time", "caption"]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_wav(path: Path, seconds: float = 0.5, sample_rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(seconds * sample_rate), np.float32), sample_rate)
    return path


def esc50_row(filename: str, fold: int | str, category: str) -> list[object]:
    target = 0
    return [filename, fold, target, category, False, filename.split("-")[1], "A"]


def make_esc50(root: Path, rows: Sequence[Sequence[object]]) -> Path:
    write_csv(root / "meta" / "esc50.csv", ESC50_HEADER, rows)
    return root


def check_result_schema(result: ReadResult) -> None:
    assert list(result.rows.columns) == METADATA_SCHEMA.names
    assert list(result.rejects.columns) == REJECTS_SCHEMA.names
    validate_metadata(result.rows)
    metadata_table(result.rows)  # the rows convert to the Parquet schema


# --- ESC-50 -----------------------------------------------------------------------------


def test_esc50_reads_one_tags_seed_per_clip(tmp_path: Path) -> None:
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

    result = read_corpus("esc", "esc50", root, {"val_folds": [4]})

    check_result_schema(result)
    assert result.rejects.empty
    rows = result.rows.set_index("seed_id")
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


def test_esc50_default_split_is_fold_5_test_rest_train(tmp_path: Path) -> None:
    root = make_esc50(tmp_path, [esc50_row(f"{fold}-1000{fold}-A-0.wav", fold, "dog") for fold in range(1, 6)])

    rows = read_corpus("esc50", "esc50", root, {"probe_audio": False}).rows

    assert list(rows["split"]) == ["train", "train", "train", "train", "test"]


def test_esc50_custom_test_folds(tmp_path: Path) -> None:
    root = make_esc50(tmp_path, [esc50_row(f"{fold}-1000{fold}-A-0.wav", fold, "dog") for fold in range(1, 6)])

    rows = read_corpus("esc50", "esc50", root, {"test_folds": [1, 2], "val_folds": [3], "probe_audio": False}).rows

    assert list(rows["split"]) == ["test", "test", "val", "train", "train"]


def test_audio_path_is_joined_from_root_not_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_esc50(tmp_path / "corpus", [esc50_row("1-1-A-0.wav", 1, "dog")])
    write_wav(tmp_path / "corpus" / "audio" / "1-1-A-0.wav")

    rows = read_corpus("esc50", "esc50", "corpus").rows

    assert list(rows["audio_path"]) == [str(Path("corpus") / "audio" / "1-1-A-0.wav")]


@pytest.mark.parametrize(
    ("write_empty", "empty_reason"),
    [
        (lambda path: path.write_bytes(b""), "empty audio file (0 bytes)"),
        (
            lambda path: sf.write(path, np.zeros(0, np.float32), 16000),
            "empty audio file (0 frames)",
        ),
    ],
    ids=["zero-bytes", "zero-frames"],
)
def test_corrupt_and_empty_files_become_rejects(tmp_path: Path, write_empty, empty_reason) -> None:
    names = ["1-1-A-0.wav", "1-2-A-0.wav", "2-3-A-0.wav", "2-4-A-0.wav"]
    root = make_esc50(tmp_path, [esc50_row(name, 1, "dog") for name in names])
    write_wav(root / "audio" / names[0])
    write_wav(root / "audio" / names[3])
    (root / "audio" / names[1]).write_bytes(np.random.default_rng(0).bytes(4096))
    write_empty(root / "audio" / names[2])

    result = read_corpus("esc50", "esc50", root)

    check_result_schema(result)
    assert list(result.rows["clip_id"]) == ["esc50/1-1-A-0", "esc50/2-4-A-0"]
    rejects = result.rejects.set_index("audio_path")
    corrupt = rejects.loc[str(root / "audio" / names[1])]
    empty = rejects.loc[str(root / "audio" / names[2])]
    assert len(rejects) == 2
    assert corrupt["reason"].startswith("unreadable audio file")
    assert empty["reason"] == empty_reason
    assert corrupt["source"] == f"{root / 'meta' / 'esc50.csv'}:3"
    assert empty["source"] == f"{root / 'meta' / 'esc50.csv'}:4"
    assert set(rejects["corpus"]) == {"esc50"}


def test_missing_audio_is_rejected_with_reason(tmp_path: Path) -> None:
    root = make_esc50(tmp_path, [esc50_row("1-1-A-0.wav", 1, "dog")])

    result = read_corpus("esc50", "esc50", root)

    assert result.rows.empty
    check_result_schema(result)
    assert list(result.rejects["reason"]) == ["missing audio file"]


@pytest.mark.parametrize("probe", [True, False])
def test_header_only_annotation_gives_empty_tables(tmp_path: Path, probe: bool) -> None:
    root = make_esc50(tmp_path, [])

    result = read_corpus("esc50", "esc50", root, {"probe_audio": probe})

    assert result.rows.empty and result.rejects.empty
    check_result_schema(result)


def test_esc50_missing_annotation_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError) as raised:
        read_corpus("esc50", "esc50", tmp_path)

    assert str(tmp_path / "meta" / "esc50.csv") in str(raised.value)


def test_esc50_missing_column_names_file_and_column(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "meta" / "esc50.csv", ["filename", "fold", "target"], [["1-1-A-0.wav", 1, 0]])

    with pytest.raises(AnnotationError) as raised:
        read_corpus("esc50", "esc50", tmp_path)

    assert str(csv_path) in str(raised.value)
    assert "category" in str(raised.value)


def test_esc50_bad_fold_names_file_and_line(tmp_path: Path) -> None:
    make_esc50(tmp_path, [esc50_row("1-1-A-0.wav", 1, "dog"), esc50_row("1-2-A-0.wav", "x", "dog")])

    with pytest.raises(AnnotationError, match="fold") as raised:
        read_corpus("esc50", "esc50", tmp_path, {"probe_audio": False})

    assert f"{tmp_path / 'meta' / 'esc50.csv'}:3" in str(raised.value)


def test_esc50_empty_category_is_a_bad_row(tmp_path: Path) -> None:
    make_esc50(tmp_path, [esc50_row("1-1-A-0.wav", 1, "")])

    with pytest.raises(AnnotationError, match="category"):
        read_corpus("esc50", "esc50", tmp_path, {"probe_audio": False})


def test_esc50_duplicate_filename_fails_validation(tmp_path: Path) -> None:
    make_esc50(tmp_path, [esc50_row("1-1-A-0.wav", 1, "dog"), esc50_row("1-1-A-0.wav", 1, "cat")])

    with pytest.raises(MetadataError, match="seed_id not unique"):
        read_corpus("esc50", "esc50", tmp_path, {"probe_audio": False})


@pytest.mark.parametrize(
    "options",
    [
        {"test_folds": "5"},
        {"test_folds": [True]},
        {"val_folds": [5]},
        {"probe_audio": "false"},
    ],
)
def test_esc50_bad_option_values(tmp_path: Path, options: dict[str, object]) -> None:
    make_esc50(tmp_path, [esc50_row("1-1-A-0.wav", 1, "dog")])

    with pytest.raises(ValueError, match=next(iter(options))):
        read_corpus("esc50", "esc50", tmp_path, options)


# --- AudioCaps ----------------------------------------------------------------------------


def make_audiocaps(root: Path, splits: dict[str, Sequence[Sequence[object]]]) -> Path:
    for split, rows in splits.items():
        write_csv(root / f"{split}.csv", AUDIOCAPS_HEADER, rows)
    return root


def test_audiocaps_reads_one_caption_seed_per_row(tmp_path: Path) -> None:
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
    assert list(rows["clip_id"]) == [
        "ac/Y3eJ9RynJzP8",
        "ac/-r1nicOVtvk",
        "ac/YvfY_TJq7n_U_130",
        "ac/YvfY_TJq7n_U_130",
    ]
    assert list(rows["split"]) == ["train", "train", "val", "val"]
    assert list(rows["seed_text"]) == [
        "The wind is blowing, insects are singing",
        "A woman talks nearby as water pours",
        "Ducks quack",
        "Water splashes, ducks quack",
    ]
    assert set(rows["seed_kind"]) == {"caption"}
    assert list(rows["tags"]) == [[], [], [], []]
    val_audio = root / "audio" / "val" / "YvfY_TJq7n_U_130.wav"
    assert rows.loc["ac/97151", "audio_path"] == str(val_audio)
    assert list(rows["duration_s"]) == pytest.approx([1.0, 0.5, 0.25, 0.25])
    assert list(rows["sample_rate"]) == [16000, 16000, 32000, 32000]
    assert result.rejects.to_dict("records") == [
        {
            "corpus": "ac",
            "audio_path": str(root / "audio" / "Y7fmOlUlwoNg.wav"),
            "source": f"{root / 'test.csv'}:2",
            "reason": "missing audio file",
        }
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
def test_audiocaps_finds_audio_under_common_names(tmp_path: Path, file_name: str) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abcDEF_123", 30, "A dog barks"]]})
    write_wav(root / "audio" / file_name)

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"]}).rows

    assert list(rows["audio_path"]) == [str(root / "audio" / file_name)]
    assert list(rows["clip_id"]) == [f"ac/{Path(file_name).stem}"]


def test_audiocaps_prefers_the_flat_y_prefixed_wav(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 30, "A dog barks"]]})
    for name in ("train/Yabc.wav", "abc.wav", "Yabc.flac", "Yabc.wav"):
        write_wav(root / "audio" / name)

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"]}).rows

    assert list(rows["audio_path"]) == [str(root / "audio" / "Yabc.wav")]


def test_audiocaps_audio_dir_option(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path / "captions", {"train": [[1, "abc", 0, "A dog barks"]]})
    elsewhere = write_wav(tmp_path / "downloads" / "Yabc.wav")

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"], "audio_dir": str(elsewhere.parent)}).rows

    assert list(rows["audio_path"]) == [str(elsewhere)]


def test_audiocaps_probes_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_audiocaps_without_probe_keeps_rows_of_missing_audio(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[7, "abc", 0, "A dog barks"]]})

    result = read_corpus("ac", "audiocaps", root, {"splits": ["train"], "probe_audio": False})

    check_result_schema(result)
    assert result.rejects.empty
    row = result.rows.iloc[0]
    assert row["clip_id"] == "ac/Yabc"
    assert row["audio_path"] == str(root / "audio" / "Yabc.wav")
    assert math.isnan(row["duration_s"])
    assert row["sample_rate"] == 0


def test_audiocaps_listed_split_file_missing_names_it(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 0, "x"]], "test": [[2, "def", 0, "y"]]})

    with pytest.raises(AnnotationError) as raised:
        read_corpus("ac", "audiocaps", root, {"probe_audio": False})

    assert str(root / "val.csv") in str(raised.value)


def test_audiocaps_unlisted_split_file_may_be_absent(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 0, "x"]], "test": [[2, "def", 0, "y"]]})

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train", "test"], "probe_audio": False}).rows

    assert list(rows["split"]) == ["train", "test"]


def test_audiocaps_missing_column_names_file_and_column(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "train.csv", ["audiocap_id", "youtube_id", "start_time"], [[1, "abc", 0]])

    with pytest.raises(AnnotationError) as raised:
        read_corpus("ac", "audiocaps", tmp_path, {"splits": ["train"]})

    assert str(csv_path) in str(raised.value)
    assert "caption" in str(raised.value)


@pytest.mark.parametrize(
    ("row", "problem"),
    [([1, "abc", 0, "   "], "caption"), ([1, "abc", "soon", "x"], "start_time")],
)
def test_audiocaps_bad_row_names_file_line_and_column(tmp_path: Path, row: list[object], problem: str) -> None:
    make_audiocaps(tmp_path, {"train": [[0, "ok", 0, "fine"], row]})

    with pytest.raises(AnnotationError, match=problem) as raised:
        read_corpus("ac", "audiocaps", tmp_path, {"splits": ["train"]})

    assert f"{tmp_path / 'train.csv'}:3" in str(raised.value)


def test_audiocaps_ids_stay_verbatim(tmp_path: Path) -> None:
    # Ids that look like numbers or NA markers must not be parsed as such.
    root = make_audiocaps(tmp_path, {"train": [["007", "nan", 0, "NA"], ["8", "1e5", 0, "x"]]})

    rows = read_corpus("ac", "audiocaps", root, {"splits": ["train"], "probe_audio": False}).rows

    assert list(rows["seed_id"]) == ["ac/007", "ac/8"]
    assert list(rows["clip_id"]) == ["ac/Ynan", "ac/Y1e5"]
    assert list(rows["seed_text"]) == ["NA", "x"]


@pytest.mark.parametrize(
    "options",
    [
        {"splits": "train"},
        {"splits": ["train", "dev"]},
        {"splits": ["train", "train"]},
        {"audio_dir": 3},
    ],
)
def test_audiocaps_bad_option_values(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        annotation_files("audiocaps", tmp_path, options)


# --- registry -----------------------------------------------------------------------------


def test_registry_has_the_eight_corpora_and_the_manifest_reader_the_config_schema_accepts() -> None:
    from balsa_core.config import load_schema

    schema_readers = load_schema()["properties"]["corpora"]["additionalProperties"]["properties"]["reader"]["enum"]
    assert (
        set(READERS)
        == set(schema_readers)
        == {
            "audioset",
            "audiocaps",
            "clotho",
            "macs",
            "manifest",
            "fsd50k",
            "esc50",
            "urbansound8k",
            "vocalsound",
        }
    )


def test_annotation_files(tmp_path: Path) -> None:
    assert annotation_files("esc50", tmp_path, {}) == [tmp_path / "meta" / "esc50.csv"]
    assert annotation_files("audiocaps", tmp_path, {}) == [
        tmp_path / "train.csv",
        tmp_path / "val.csv",
        tmp_path / "test.csv",
    ]
    assert annotation_files("audiocaps", str(tmp_path), {"splits": ["test"]}) == [tmp_path / "test.csv"]


def test_unknown_reader_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown reader 'wav2vec'") as raised:
        read_corpus("wav2vec", "wav2vec", tmp_path)
    assert "audiocaps" in str(raised.value) and "esc50" in str(raised.value)
    with pytest.raises(ValueError, match="unknown reader"):
        annotation_files("wav2vec", tmp_path, {})


@pytest.mark.parametrize("reader", ["esc50", "audiocaps"])
def test_unknown_option_names_the_key(tmp_path: Path, reader: str) -> None:
    with pytest.raises(ValueError, match="test_fold'"):
        read_corpus("x", reader, tmp_path, {"test_fold": [5]})
    with pytest.raises(ValueError, match="test_fold'"):
        annotation_files(reader, tmp_path, {"test_fold": [5]})


@pytest.mark.parametrize("name", ["", "a/b"])
def test_corpus_name_must_be_an_id_prefix(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="corpus name"):
        read_corpus(name, "esc50", tmp_path)


def test_duplicate_seed_ids_across_splits_fail_validation(tmp_path: Path) -> None:
    root = make_audiocaps(tmp_path, {"train": [[1, "abc", 0, "x"]], "val": [[1, "def", 0, "y"]]})

    with pytest.raises(MetadataError, match="seed_id not unique"):
        read_corpus("ac", "audiocaps", root, {"splits": ["train", "val"], "probe_audio": False})


# --- the real annotation files ------------------------------------------------------------

needs_shared = pytest.mark.skipif(
    not SHARED_FORMATS.is_dir(), reason=f"real format samples not found at {SHARED_FORMATS}"
)


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.shared
@needs_shared
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


@pytest.mark.shared
@needs_shared
def test_real_audiocaps_samples() -> None:
    root = SHARED_FORMATS / "audiocaps"

    result = read_corpus("audiocaps", "audiocaps", root, {"probe_audio": False})

    check_result_schema(result)
    rows = result.rows
    assert result.rejects.empty
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


@pytest.mark.shared
@needs_shared
def test_real_audiocaps_without_audio_rejects_every_row() -> None:
    result = read_corpus("audiocaps", "audiocaps", SHARED_FORMATS / "audiocaps")

    assert result.rows.empty
    assert len(result.rejects) == 900
    assert set(result.rejects["reason"]) == {"missing audio file"}


def test_esc50_folds_outside_one_to_five_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"option 'test_folds' has folds \[7\] outside 1-5"):
        annotation_files("esc50", tmp_path, {"test_folds": [7]})
