"""What ESC-50 and UrbanSound8K share as fold-based corpora (``readers/folds.py``), checked on each.

Each corpus's own layout (audio folders, real samples) is tested in its own file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ESC50_HEADER, URBANSOUND8K_HEADER, esc50_row, us8k_row, write_csv

from balsa_core.metadata import MetadataError
from balsa_core.readers import AnnotationError, annotation_files, read_corpus
from balsa_core.readers.esc50 import ESC50
from balsa_core.readers.folds import FoldCorpus
from balsa_core.readers.urbansound8k import URBANSOUND8K


@dataclass(frozen=True)
class FoldCase:
    """A fold-based corpus and how tests write its annotation CSV."""

    corpus: FoldCorpus
    header: Sequence[str]
    # A CSV row from (file name, fold, class).
    row: Callable[[str, int | str, str], list[object]]

    @property
    def reader(self) -> str:
        return self.corpus.reader

    def write(self, root: Path, rows: Sequence[Sequence[object]], header: Sequence[str] | None = None) -> Path:
        return write_csv(root / self.corpus.annotation_file, self.header if header is None else header, rows)

    def one_clip_per_fold(self, root: Path) -> None:
        self.write(root, [self.row(f"{fold}-1000{fold}-A-0.wav", fold, "dog") for fold in self.corpus.folds])


ESC50_CASE = FoldCase(corpus=ESC50, header=ESC50_HEADER, row=esc50_row)
URBANSOUND8K_CASE = FoldCase(corpus=URBANSOUND8K, header=URBANSOUND8K_HEADER, row=us8k_row)
CASES = [ESC50_CASE, URBANSOUND8K_CASE]


def reader_id(value: object) -> str | None:
    """Test ids name the corpus; other parameters keep pytest's own ids."""
    return value.reader if isinstance(value, FoldCase) else None


@pytest.mark.parametrize(
    ("case", "options", "splits"),
    [
        (ESC50_CASE, {}, ["train", "train", "train", "train", "test"]),
        (ESC50_CASE, {"test_folds": [1, 2], "val_folds": [3]}, ["test", "test", "val", "train", "train"]),
        (URBANSOUND8K_CASE, {}, ["train"] * 9 + ["test"]),
        (
            URBANSOUND8K_CASE,
            {"test_folds": [1, 2], "val_folds": [9]},
            ["test", "test"] + ["train"] * 6 + ["val", "train"],
        ),
    ],
    ids=reader_id,
)
def test_the_last_fold_is_test_by_default_and_options_choose_others(
    tmp_path: Path, case: FoldCase, options: dict[str, object], splits: list[str]
) -> None:
    case.one_clip_per_fold(tmp_path)

    rows = read_corpus(case.reader, case.reader, tmp_path, {**options, "probe_audio": False}).rows

    assert list(rows["split"]) == splits


@pytest.mark.parametrize(
    ("case", "folds", "message"),
    [
        (ESC50_CASE, [7], r"option 'test_folds' has folds \[7\] outside 1-5"),
        (URBANSOUND8K_CASE, [7, 11], r"option 'test_folds' has folds \[11\] outside 1-10"),
    ],
    ids=reader_id,
)
def test_folds_outside_the_corpus_are_refused(tmp_path: Path, case: FoldCase, folds: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        annotation_files(case.reader, tmp_path, {"test_folds": folds})


@pytest.mark.parametrize(
    ("case", "annotation_file"),
    [(ESC50_CASE, Path("meta") / "esc50.csv"), (URBANSOUND8K_CASE, Path("metadata") / "UrbanSound8K.csv")],
    ids=reader_id,
)
def test_annotation_files_and_a_missing_one_named(tmp_path: Path, case: FoldCase, annotation_file: Path) -> None:
    assert annotation_files(case.reader, tmp_path) == [tmp_path / annotation_file]
    with pytest.raises(ValueError, match="'test_fold'"):
        annotation_files(case.reader, tmp_path, {"test_fold": [1]})

    with pytest.raises(AnnotationError) as raised:
        read_corpus(case.reader, case.reader, tmp_path)

    assert str(tmp_path / annotation_file) in str(raised.value)


@pytest.mark.parametrize(
    ("case", "header", "row", "missing"),
    [
        (ESC50_CASE, ["filename", "fold", "target"], ["1-1-A-0.wav", 1, 0], "category"),
        (URBANSOUND8K_CASE, ["slice_file_name", "fsID", "fold", "classID"], ["1-0-0-0.wav", 1, 1, 0], "'class'"),
    ],
    ids=reader_id,
)
def test_missing_column_names_file_and_column(
    tmp_path: Path, case: FoldCase, header: list[str], row: list[object], missing: str
) -> None:
    csv_path = case.write(tmp_path, [row], header=header)

    with pytest.raises(AnnotationError) as raised:
        read_corpus(case.reader, case.reader, tmp_path, {"probe_audio": False})

    assert str(csv_path) in str(raised.value)
    assert missing in str(raised.value)


def bad_cells(case: FoldCase) -> list[tuple[str, object]]:
    """Cells that make a row unreadable, each with the column its error names."""
    past_the_last_fold = case.corpus.folds[-1] + 1
    return [
        ("fold", "x"),
        ("fold", 0),
        ("fold", past_the_last_fold),
        (case.corpus.class_column, " "),
        (case.corpus.class_column, ""),
        (case.corpus.file_column, ""),
    ]


@pytest.mark.parametrize(
    ("case", "column", "value"),
    [(case, column, value) for case in CASES for column, value in bad_cells(case)],
    ids=reader_id,
)
def test_bad_row_names_file_line_and_column(tmp_path: Path, case: FoldCase, column: str, value: object) -> None:
    bad_row = case.row("2-0-0-0.wav", 2, "dog")
    bad_row[case.header.index(column)] = value
    csv_path = case.write(tmp_path, [case.row("1-0-0-0.wav", 1, "dog"), bad_row])

    with pytest.raises(AnnotationError, match=column) as raised:
        read_corpus(case.reader, case.reader, tmp_path, {"probe_audio": False})

    assert f"{csv_path}:3" in str(raised.value)


@pytest.mark.parametrize("case", CASES, ids=reader_id)
def test_duplicate_file_name_fails_validation(tmp_path: Path, case: FoldCase) -> None:
    case.write(tmp_path, [case.row("1-1-A-0.wav", 1, "dog"), case.row("1-1-A-0.wav", 1, "cat")])

    with pytest.raises(MetadataError, match="seed_id not unique"):
        read_corpus(case.reader, case.reader, tmp_path, {"probe_audio": False})
