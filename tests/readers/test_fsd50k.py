from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import (
    SHARED_FORMATS,
    check_result_schema,
    ontology_class,
    reject,
    uses_real_sample,
    write_csv,
    write_json,
    write_wav,
)

from balsa_core.readers import fsd50k
from balsa_core.readers.common import AnnotationError

REAL_ONTOLOGY = SHARED_FORMATS / "audioset" / "ontology.json"

DEV_HEADER = ["fname", "labels", "mids", "split"]
EVAL_HEADER = ["fname", "labels", "mids"]

GUITAR_LABELS = "Electric_guitar,Guitar,Plucked_string_instrument,Musical_instrument,Music"
GUITAR_MIDS = "/m/02sgy,/m/0342h,/m/0fx80y,/m/04szw,/m/04rlf"
# Two leaves under Guitar, listed before their shared ancestors, as the real dev.csv does.
TWO_GUITARS_LABELS = "Electric_guitar,Bass_guitar,Guitar,Plucked_string_instrument,Musical_instrument,Music"
TWO_GUITARS_MIDS = "/m/02sgy,/m/018vs,/m/0342h,/m/0fx80y,/m/04szw,/m/04rlf"
BARK_LABELS = "Bark,Dog,Domestic_animals_and_pets,Animal"
BARK_MIDS = "/m/05tny_,/m/0bt9lr,/m/068hy,/m/0jbk"

DEV_ROWS = [
    ["64760", GUITAR_LABELS, GUITAR_MIDS, "train"],
    ["5312", TWO_GUITARS_LABELS, TWO_GUITARS_MIDS, "val"],
    ["21914", "Male_speech_and_man_speaking,Speech,Human_voice", "/m/05zppz,/m/09x0r,/m/09l8g", "train"],
]
EVAL_ROWS = [
    ["64760", BARK_LABELS, BARK_MIDS],
    ["99", "Frying_(food),Domestic_sounds_and_home_sounds", "/m/0dxrf,/t/dd"],
]


# Dog sits directly under Animal here, so Domestic animals is not between Bark and Animal.
FIXTURE_CLASSES = [
    ontology_class("/m/04rlf", "Music", ["/m/04szw"]),
    ontology_class("/m/04szw", "Musical instrument", ["/m/0fx80y"]),
    ontology_class("/m/0fx80y", "Plucked string instrument", ["/m/0342h"]),
    ontology_class("/m/0342h", "Guitar", ["/m/02sgy", "/m/018vs"]),
    ontology_class("/m/02sgy", "Electric guitar"),
    ontology_class("/m/018vs", "Bass guitar"),
    ontology_class("/m/0jbk", "Animal", ["/m/068hy", "/m/0bt9lr"]),
    ontology_class("/m/068hy", "Domestic animals, pets"),
    ontology_class("/m/0bt9lr", "Dog", ["/m/05tny_"]),
    ontology_class("/m/05tny_", "Bark"),
]


def make_fsd50k(
    root: Path,
    dev_rows: Sequence[Sequence[object]] = DEV_ROWS,
    eval_rows: Sequence[Sequence[object]] | None = EVAL_ROWS,
) -> Path:
    write_csv(root / "FSD50K.ground_truth" / "dev.csv", DEV_HEADER, dev_rows)
    if eval_rows is not None:
        write_csv(root / "FSD50K.ground_truth" / "eval.csv", EVAL_HEADER, eval_rows)
    return root


def test_reads_dev_and_eval_with_every_label(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path)
    write_wav(root / "FSD50K.dev_audio" / "64760.wav", seconds=1.0, sample_rate=44100)
    write_wav(root / "FSD50K.dev_audio" / "5312.wav", seconds=0.5, sample_rate=22050)
    write_wav(root / "FSD50K.eval_audio" / "64760.wav", seconds=0.25, sample_rate=44100)
    write_wav(root / "FSD50K.eval_audio" / "99.wav", seconds=0.75, sample_rate=44100)

    result = fsd50k.read("fsd", root, {})

    check_result_schema(result)
    rows = result.rows
    assert len(rows) == 4
    # The same fname in dev and eval is two clips.
    assert list(rows["seed_id"]) == ["fsd/dev_64760", "fsd/dev_5312", "fsd/eval_64760", "fsd/eval_99"]
    assert list(rows["clip_id"]) == list(rows["seed_id"])
    assert list(rows["split"]) == ["train", "val", "test", "test"]
    assert rows["tags"].iloc[0] == [
        "Electric guitar",
        "Guitar",
        "Plucked string instrument",
        "Musical instrument",
        "Music",
    ]
    assert rows["seed_text"].iloc[0] == "Electric guitar, Guitar, Plucked string instrument, Musical instrument, Music"
    assert rows["tags"].iloc[3] == ["Frying (food)", "Domestic sounds and home sounds"]
    assert set(rows["seed_kind"]) == {"tags"}
    assert list(rows["audio_path"]) == [
        str(root / "FSD50K.dev_audio" / "64760.wav"),
        str(root / "FSD50K.dev_audio" / "5312.wav"),
        str(root / "FSD50K.eval_audio" / "64760.wav"),
        str(root / "FSD50K.eval_audio" / "99.wav"),
    ]
    assert list(rows["duration_s"]) == pytest.approx([1.0, 0.5, 0.25, 0.75])
    assert list(rows["sample_rate"]) == [44100, 22050, 44100, 44100]
    assert result.rejects.to_dict("records") == [
        reject("fsd", root / "FSD50K.dev_audio" / "21914.wav", f"{root / 'FSD50K.ground_truth' / 'dev.csv'}:4")
    ]


def test_labels_are_one_quoted_field(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path, DEV_ROWS[:1], eval_rows=None)
    assert f'"{GUITAR_LABELS}","{GUITAR_MIDS}"' in (root / "FSD50K.ground_truth" / "dev.csv").read_text()

    rows = fsd50k.read("fsd50k", root, {"include_eval": False, "probe_audio": False}).rows

    assert len(rows) == 1
    assert len(rows["tags"].iloc[0]) == 5


def test_without_eval_the_eval_file_may_be_absent(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path, eval_rows=None)

    result = fsd50k.read("fsd50k", root, {"include_eval": False, "probe_audio": False})

    check_result_schema(result)
    assert list(result.rows["split"]) == ["train", "val", "train"]
    assert math.isnan(result.rows["duration_s"].iloc[0])
    assert fsd50k.annotation_files(root, {"include_eval": False}) == [root / "FSD50K.ground_truth" / "dev.csv"]


def test_leaf_labels_only_drops_every_listed_ancestor(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path, DEV_ROWS[:2], EVAL_ROWS[:1])
    write_json(root / "ontology.json", FIXTURE_CLASSES)

    rows = fsd50k.read(
        "fsd50k", root, {"leaf_labels_only": True, "ontology": "ontology.json", "probe_audio": False}
    ).rows

    assert list(rows["tags"]) == [
        ["Electric guitar"],
        ["Electric guitar", "Bass guitar"],
        # Domestic animals is no ancestor of Bark in this ontology, so it is a leaf of the list.
        ["Bark", "Domestic animals and pets"],
    ]
    assert list(rows["seed_text"]) == [
        "Electric guitar",
        "Electric guitar, Bass guitar",
        "Bark, Domestic animals and pets",
    ]


def test_leaf_labels_only_needs_the_ontology(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path, DEV_ROWS[:1], eval_rows=None)

    with pytest.raises(ValueError, match="'leaf_labels_only' needs option 'ontology'"):
        fsd50k.read("fsd50k", root, {"leaf_labels_only": True, "include_eval": False, "probe_audio": False})


def test_ontology_is_read_only_for_leaf_labels(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path)
    options = {"ontology": str(tmp_path / "absent.json"), "probe_audio": False}

    assert len(fsd50k.read("fsd50k", root, options).rows) == 5
    assert fsd50k.annotation_files(root, options) == [
        root / "FSD50K.ground_truth" / "dev.csv",
        root / "FSD50K.ground_truth" / "eval.csv",
    ]
    assert fsd50k.annotation_files(root, {**options, "leaf_labels_only": True})[-1] == tmp_path / "absent.json"


def test_missing_ontology_names_it(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path)

    with pytest.raises(AnnotationError, match="not found") as raised:
        fsd50k.read("fsd50k", root, {"leaf_labels_only": True, "ontology": "ontology.json"})

    assert str(root / "ontology.json") in str(raised.value)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (["1", GUITAR_LABELS, "/m/02sgy,/m/0342h", "train"], "5 labels but 2 mids"),
        (["1", "Cat,Animal", "/m/01yrx,/m/0jbk", "train"], "/m/01yrx"),
    ],
    ids=["count-mismatch", "unknown-mid"],
)
def test_leaf_labels_bad_mids_name_file_and_line(tmp_path: Path, row: list[str], problem: str) -> None:
    root = make_fsd50k(tmp_path, [DEV_ROWS[0], row], eval_rows=None)
    write_json(root / "ontology.json", FIXTURE_CLASSES)

    with pytest.raises(AnnotationError, match=problem) as raised:
        fsd50k.read("fsd50k", root, {"leaf_labels_only": True, "ontology": "ontology.json", "include_eval": False})

    assert f"{root / 'FSD50K.ground_truth' / 'dev.csv'}:3" in str(raised.value)


@pytest.mark.parametrize("subset", ["dev", "eval"])
def test_missing_annotation_file_names_it(tmp_path: Path, subset: str) -> None:
    root = make_fsd50k(tmp_path)
    missing = root / "FSD50K.ground_truth" / f"{subset}.csv"
    missing.unlink()

    with pytest.raises(AnnotationError, match="not found") as raised:
        fsd50k.read("fsd50k", root, {"probe_audio": False})

    assert str(missing) in str(raised.value)


@pytest.mark.parametrize(
    ("subset", "header", "column"),
    [("dev", ["fname", "labels", "mids"], "split"), ("eval", ["fname", "labels"], "mids")],
)
def test_missing_column_names_file_and_column(tmp_path: Path, subset: str, header: list[str], column: str) -> None:
    root = make_fsd50k(tmp_path)
    csv_path = write_csv(root / "FSD50K.ground_truth" / f"{subset}.csv", header, [["1"] * len(header)])

    with pytest.raises(AnnotationError) as raised:
        fsd50k.read("fsd50k", root, {"probe_audio": False})

    assert str(csv_path) in str(raised.value)
    assert column in str(raised.value)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (["1", "Music", "/m/04rlf", "test"], "split 'test'"),
        (["1", "Music,,Guitar", "/m/04rlf", "train"], "empty item in labels"),
        (["1", " ", "/m/04rlf", "train"], "labels"),
        (["", "Music", "/m/04rlf", "train"], "fname"),
    ],
    ids=["bad-split", "empty-label", "no-labels", "no-fname"],
)
def test_bad_row_names_file_line_and_problem(tmp_path: Path, row: list[str], problem: str) -> None:
    root = make_fsd50k(tmp_path, [DEV_ROWS[0], row])

    with pytest.raises(AnnotationError, match=problem) as raised:
        fsd50k.read("fsd50k", root, {"probe_audio": False})

    assert f"{root / 'FSD50K.ground_truth' / 'dev.csv'}:3" in str(raised.value)


def test_fnames_stay_verbatim(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path, [["007", "Music", "/m/04rlf", "train"]], [["nan", "Music", "/m/04rlf"]])

    rows = fsd50k.read("fsd50k", root, {"probe_audio": False}).rows

    assert list(rows["clip_id"]) == ["fsd50k/dev_007", "fsd50k/eval_nan"]


def test_default_annotation_files(tmp_path: Path) -> None:
    assert fsd50k.annotation_files(tmp_path, {}) == [
        tmp_path / "FSD50K.ground_truth" / "dev.csv",
        tmp_path / "FSD50K.ground_truth" / "eval.csv",
    ]


@uses_real_sample(REAL_ONTOLOGY)
def test_leaf_labels_with_the_real_ontology(tmp_path: Path) -> None:
    root = make_fsd50k(tmp_path, DEV_ROWS, eval_rows=None)

    rows = fsd50k.read(
        "fsd50k",
        root,
        {"leaf_labels_only": True, "ontology": str(REAL_ONTOLOGY), "include_eval": False, "probe_audio": False},
    ).rows

    assert list(rows["tags"]) == [
        ["Electric guitar"],
        ["Electric guitar", "Bass guitar"],
        ["Male speech and man speaking"],
    ]
