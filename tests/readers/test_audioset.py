from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import (
    SHARED_FORMATS,
    check_result_schema,
    clean_rows,
    ontology_class,
    reject,
    uses_real_sample,
    write_json,
    write_lines,
    write_wav,
)

from balsa_core.metadata import validate_metadata
from balsa_core.readers import audioset
from balsa_core.readers.common import AnnotationError

REAL_ONTOLOGY = SHARED_FORMATS / "audioset" / "ontology.json"

# Verbatim shape of the real file's preamble: two descriptive lines, then the column names.
PREAMBLE = [
    "# Segments csv created Sun Mar  5 10:54:25 2017",
    "# num_ytids=3, num_segs=3, num_unique_labels=4, num_positive_labels=5",
    "# YTID, start_seconds, end_seconds, positive_labels",
]
SEGMENT_LINES = [
    '--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/t/dd00088"',
    '-0RWZT-miFs, 420.000, 430.000, "/m/0bt9lr"',
    '-1nilez17Dg, 0.000, 8.500, "/m/068hy,/m/0bt9lr,/m/05zppz"',
]
CLASSES = {
    "/m/09x0r": "Speech",
    "/m/05zppz": "Male speech, man speaking",
    "/t/dd00088": "Gush",
    "/m/068hy": "Domestic animals, pets",
    "/m/0bt9lr": "Dog",
}


def write_ontology(path: Path, names: dict[str, str]) -> Path:
    return write_json(path, [ontology_class(mid, name) for mid, name in names.items()])


def make_audioset(root: Path, segment_lines: Sequence[str] = SEGMENT_LINES, preamble: Sequence[str] = PREAMBLE) -> Path:
    write_lines(root / "balanced_train_segments.csv", [*preamble, *segment_lines])
    write_ontology(root / "ontology.json", CLASSES)
    return root


def test_reads_one_tags_seed_per_segment(tmp_path: Path) -> None:
    root = make_audioset(tmp_path)
    write_wav(root / "audio" / "Y--PJHxphWEs.wav", seconds=1.0)
    write_wav(root / "audio" / "-0RWZT-miFs.flac", seconds=0.5, sample_rate=32000)

    result = audioset.read("as20k", root, {})

    check_result_schema(result)
    rows = result.rows
    assert len(rows) == 2
    assert list(rows["seed_id"]) == ["as20k/Y--PJHxphWEs", "as20k/-0RWZT-miFs"]
    assert list(rows["clip_id"]) == list(rows["seed_id"])
    assert list(rows["tags"]) == [["Speech", "Gush"], ["Dog"]]
    assert list(rows["seed_text"]) == ["Speech, Gush", "Dog"]
    assert set(rows["seed_kind"]) == {"tags"}
    assert set(rows["split"]) == {"train"}
    assert set(rows["corpus"]) == {"as20k"}
    assert list(rows["audio_path"]) == [
        str(root / "audio" / "Y--PJHxphWEs.wav"),
        str(root / "audio" / "-0RWZT-miFs.flac"),
    ]
    assert list(rows["duration_s"]) == pytest.approx([1.0, 0.5])
    assert list(rows["sample_rate"]) == [16000, 32000]
    segments = root / "balanced_train_segments.csv"
    # Three comment lines come first, so the third segment is on line 6.
    assert result.rejects.to_dict("records") == [reject("as20k", root / "audio" / "Y-1nilez17Dg.wav", f"{segments}:6")]


def test_without_probe_every_row_is_kept_in_file_order(tmp_path: Path) -> None:
    root = make_audioset(tmp_path)

    rows = clean_rows(audioset.read("audioset", root, {"probe_audio": False}))

    assert len(rows) == 3
    assert list(rows["clip_id"]) == ["audioset/Y--PJHxphWEs", "audioset/Y-0RWZT-miFs", "audioset/Y-1nilez17Dg"]
    # Label order is the file's, and a name with a comma stays one tag.
    assert rows["tags"].iloc[2] == ["Domestic animals, pets", "Dog", "Male speech, man speaking"]
    assert math.isnan(rows["duration_s"].iloc[0])
    assert rows["sample_rate"].iloc[0] == 0


@pytest.mark.parametrize(
    "file_name",
    [
        "YabcDEF_123.wav",
        "abcDEF_123.flac",
        "YabcDEF_123_30.000_38.500.wav",
        "abcDEF_123_30.000_38.500.wav",
        "YabcDEF_123_30.wav",
        "abcDEF_123_30.flac",
        "train/abcDEF_123.wav",
    ],
)
def test_finds_audio_under_common_names(tmp_path: Path, file_name: str) -> None:
    root = make_audioset(tmp_path, ['abcDEF_123, 30.000, 38.500, "/m/0bt9lr"'])
    write_wav(root / "audio" / file_name)

    rows = audioset.read("as", root, {}).rows

    assert list(rows["audio_path"]) == [str(root / "audio" / file_name)]
    assert list(rows["clip_id"]) == [f"as/{Path(file_name).stem}"]


def test_prefers_the_flat_y_prefixed_wav(tmp_path: Path) -> None:
    root = make_audioset(tmp_path, ['abc, 30.000, 40.000, "/m/0bt9lr"'])
    for name in ("train/Yabc.wav", "abc.wav", "Yabc_30.000_40.000.wav", "Yabc.flac", "Yabc.wav"):
        write_wav(root / "audio" / name)

    rows = audioset.read("as", root, {}).rows

    assert list(rows["audio_path"]) == [str(root / "audio" / "Yabc.wav")]


def test_path_and_split_options(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_lines(root / "csv" / "eval_segments.csv", [*PREAMBLE, 'abc, 0.000, 10.000, "/m/09x0r"'])
    write_ontology(tmp_path / "elsewhere" / "ontology.json", CLASSES)
    wav = write_wav(tmp_path / "downloads" / "Yabc.wav")
    options = {
        "segments": "csv/eval_segments.csv",
        "ontology": str(tmp_path / "elsewhere" / "ontology.json"),
        "audio_dir": str(wav.parent),
        "split": "test",
    }

    result = audioset.read("as", root, options)

    check_result_schema(result)
    assert list(result.rows["split"]) == ["test"]
    assert list(result.rows["audio_path"]) == [str(wav)]
    assert audioset.annotation_files(root, options) == [
        root / "csv" / "eval_segments.csv",
        tmp_path / "elsewhere" / "ontology.json",
    ]


def test_class_labels_replace_the_ontology(tmp_path: Path) -> None:
    root = tmp_path
    write_lines(root / "balanced_train_segments.csv", [*PREAMBLE, SEGMENT_LINES[0]])
    write_lines(
        root / "class_labels_indices.csv",
        ["index,mid,display_name", '0,/m/09x0r,"Speech"', '1,/t/dd00088,"Gush, gushing"'],
    )
    options = {"class_labels": "class_labels_indices.csv", "probe_audio": False}

    rows = audioset.read("as", root, options).rows

    assert list(rows["tags"]) == [["Speech", "Gush, gushing"]]
    assert audioset.annotation_files(root, options) == [
        root / "balanced_train_segments.csv",
        root / "class_labels_indices.csv",
    ]


def test_default_annotation_files(tmp_path: Path) -> None:
    assert audioset.annotation_files(tmp_path, {}) == [
        tmp_path / "balanced_train_segments.csv",
        tmp_path / "ontology.json",
    ]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    root = make_audioset(tmp_path, [SEGMENT_LINES[0], "", SEGMENT_LINES[1], ""])

    rows = audioset.read("as", root, {"probe_audio": False}).rows

    assert len(rows) == 2


def test_header_only_file_gives_empty_tables(tmp_path: Path) -> None:
    root = make_audioset(tmp_path, [])

    result = audioset.read("as", root, {})

    assert result.rows.empty and result.rejects.empty
    check_result_schema(result)


def test_unknown_mid_names_file_line_and_mid(tmp_path: Path) -> None:
    root = make_audioset(tmp_path, [SEGMENT_LINES[0], 'abc, 0.000, 10.000, "/m/0bt9lr,/m/unknown"'])

    with pytest.raises(AnnotationError, match="/m/unknown") as raised:
        audioset.read("as", root, {"probe_audio": False})

    assert f"{root / 'balanced_train_segments.csv'}:5" in str(raised.value)
    assert str(root / "ontology.json") in str(raised.value)


@pytest.mark.parametrize("missing", ["balanced_train_segments.csv", "ontology.json"])
def test_missing_annotation_file_names_it(tmp_path: Path, missing: str) -> None:
    root = make_audioset(tmp_path)
    (root / missing).unlink()

    with pytest.raises(AnnotationError, match="not found") as raised:
        audioset.read("as", root, {"probe_audio": False})

    assert str(root / missing) in str(raised.value)


def test_missing_class_labels_file_names_it(tmp_path: Path) -> None:
    root = make_audioset(tmp_path)

    with pytest.raises(AnnotationError) as raised:
        audioset.read("as", root, {"class_labels": "class_labels_indices.csv"})

    assert str(root / "class_labels_indices.csv") in str(raised.value)


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    root = make_audioset(tmp_path, SEGMENT_LINES, [*PREAMBLE[:2], "# YTID, start_seconds, end_seconds, labels"])

    with pytest.raises(AnnotationError) as raised:
        audioset.read("as", root, {"probe_audio": False})

    assert str(root / "balanced_train_segments.csv") in str(raised.value)
    assert "positive_labels" in str(raised.value)


@pytest.mark.parametrize("segment_lines", [SEGMENT_LINES, []], ids=["with-rows", "empty"])
def test_file_without_column_line_is_refused(tmp_path: Path, segment_lines: list[str]) -> None:
    root = make_audioset(tmp_path, segment_lines, preamble=[])

    with pytest.raises(AnnotationError, match="header line") as raised:
        audioset.read("as", root, {"probe_audio": False})

    assert str(root / "balanced_train_segments.csv") in str(raised.value)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("abc, 0.000, 10.000, /m/09x0r,/t/dd00088", "expected 4 fields"),
        ("abc, soon, 10.000, /m/09x0r", "start_seconds"),
        ("abc, 10.000, -1, /m/09x0r", "end_seconds"),
        ("abc, 10.000, 10.000, /m/09x0r", "not after"),
        ('abc, 0.000, 10.000, ""', "positive_labels"),
        ('abc, 0.000, 10.000, "/m/09x0r,,/t/dd00088"', "empty mid"),
        (' , 0.000, 10.000, "/m/09x0r"', "YTID"),
    ],
    ids=["unquoted-labels", "bad-start", "negative-end", "empty-segment", "no-labels", "empty-mid", "no-ytid"],
)
def test_bad_row_names_file_line_and_problem(tmp_path: Path, line: str, problem: str) -> None:
    root = make_audioset(tmp_path, [SEGMENT_LINES[0], line])

    with pytest.raises(AnnotationError, match=problem) as raised:
        audioset.read("as", root, {"probe_audio": False})

    assert f"{root / 'balanced_train_segments.csv'}:5" in str(raised.value)


def test_duplicate_segment_ids_fail_validation(tmp_path: Path) -> None:
    root = make_audioset(tmp_path, [SEGMENT_LINES[0], SEGMENT_LINES[0]])

    rows = audioset.read("as", root, {"probe_audio": False}).rows

    with pytest.raises(ValueError, match="seed_id not unique"):
        validate_metadata(rows)


@uses_real_sample(REAL_ONTOLOGY)
def test_real_ontology_names_the_labels(tmp_path: Path) -> None:
    write_lines(tmp_path / "balanced_train_segments.csv", [*PREAMBLE, *SEGMENT_LINES])

    result = audioset.read("audioset", tmp_path, {"ontology": str(REAL_ONTOLOGY), "probe_audio": False})

    check_result_schema(result)
    assert list(result.rows["tags"]) == [
        ["Speech", "Gush"],
        ["Dog"],
        ["Domestic animals, pets", "Dog", "Male speech, man speaking"],
    ]
