"""Fold-based corpora (ESC-50, UrbanSound8K): one CSV gives each clip a file, a fold and one class.

The options name the test and validation folds; every other fold is train.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balsa_core.readers.common import (
    AnnotationRow,
    ReaderOptions,
    ReadResult,
    probe_seeds,
    read_annotation_rows,
    readable_tag,
    tags_seed,
)


@dataclass(frozen=True)
class FoldSplits:
    """A fold-based corpus's split: the test folds, the validation folds, the rest train."""

    test: frozenset[int]
    val: frozenset[int]

    def split_of(self, fold: int) -> str:
        if fold in self.test:
            return "test"
        if fold in self.val:
            return "val"
        return "train"


@dataclass(frozen=True)
class FoldReaderOptions:
    splits: FoldSplits
    probe_audio: bool


@dataclass(frozen=True)
class FoldCorpus:
    """What tells one fold-based corpus from another; its ``annotation_files`` and ``read`` are the reader."""

    reader: str
    # Relative to the corpus root.
    annotation_file: Path
    # The columns naming each clip's file and its class; "fold" is common to all.
    file_column: str
    class_column: str
    folds: range
    default_test_folds: tuple[int, ...]
    # Relative to the corpus root; "{fold}" stands for the clip's fold where each fold has a folder.
    audio_dir: str

    def fold_splits(self, given: ReaderOptions) -> FoldSplits:
        """``test_folds`` / ``val_folds`` options, checked against the corpus's folds and each other."""

        def fold_option(key: str, default: tuple[int, ...]) -> frozenset[int]:
            chosen = frozenset(given.items(key, default, int))
            outside = sorted(fold for fold in chosen if fold not in self.folds)
            if outside:
                raise given.error(key, f"has folds {outside} outside {self.folds[0]}-{self.folds[-1]}")
            return chosen

        test, val = fold_option("test_folds", self.default_test_folds), fold_option("val_folds", ())
        if test & val:
            raise ValueError(f"reader {self.reader!r}: folds {sorted(test & val)} are in both test_folds and val_folds")
        return FoldSplits(test=test, val=val)

    def parse_options(self, options: Mapping[str, object]) -> FoldReaderOptions:
        given = ReaderOptions(self.reader, options, ("test_folds", "val_folds", "probe_audio"))
        return FoldReaderOptions(splits=self.fold_splits(given), probe_audio=given.probe_audio)

    def annotation_files(self, root: Path, options: Mapping[str, object]) -> list[Path]:
        self.parse_options(options)
        return [Path(root) / self.annotation_file]

    def fold_number(self, row: AnnotationRow) -> int:
        fold_text = row.cell("fold")
        if not fold_text.isdecimal() or int(fold_text) not in self.folds:
            raise row.error(f"fold {fold_text!r} is not a whole number from {self.folds[0]} to {self.folds[-1]}")
        return int(fold_text)

    def _seed(self, corpus: str, root: Path, row: AnnotationRow, splits: FoldSplits) -> dict[str, object]:
        file_name = row.cell(self.file_column)
        fold = self.fold_number(row)
        return tags_seed(
            clip_id=f"{corpus}/{Path(file_name).stem}",
            corpus=corpus,
            split=splits.split_of(fold),
            audio_path=root / self.audio_dir.format(fold=fold) / file_name,
            tags=[readable_tag(row.cell(self.class_column))],
            source=row.source,
        )

    def read(self, name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
        parsed = self.parse_options(options)
        root = Path(root)
        rows = read_annotation_rows(root / self.annotation_file, (self.file_column, "fold", self.class_column))
        return probe_seeds([self._seed(name, root, row, parsed.splits) for row in rows], probe=parsed.probe_audio)
