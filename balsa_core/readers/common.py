"""What every corpus reader shares: annotation CSV loading, option checks, audio probing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from balsa_core.audio import AudioError, AudioInfo, probe_audio
from balsa_core.metadata import METADATA_SCHEMA, REJECTS_SCHEMA, empty_rejects

# A reader emits one "seed" per metadata row before the audio is probed: the metadata
# columns the header probe fills in are absent, and ``source`` says where the row came from.
SEED_COLUMNS = [
    name for name in METADATA_SCHEMA.names if name not in ("offset_s", "duration_s", "sample_rate", "channels")
] + ["source"]

T = TypeVar("T")


class AnnotationError(ValueError):
    """An annotation file is missing or malformed; the message names the file and the problem."""


@dataclass
class ReadResult:
    rows: pd.DataFrame
    rejects: pd.DataFrame


def read_annotation_csv(path: Path | str, required_columns: Iterable[str]) -> pd.DataFrame:
    """Read a CSV with every cell as a string; raise AnnotationError naming the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    try:
        # All-string cells with no NA guessing: ids such as "nan" or "1e5" must stay verbatim,
        # and utf-8-sig drops the byte-order mark some spreadsheet exports prepend.
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise AnnotationError(f"{path}: not a readable CSV file ({error})") from error
    missing = [column for column in required_columns if column not in table.columns]
    if missing:
        raise AnnotationError(f"{path}: missing column(s) {missing}; found {list(table.columns)}")
    return table


def row_source(path: Path, index: int) -> str:
    """Name a data row as ``file:line``, the header being line 1."""
    return f"{path}:{index + 2}"


def bad_row(path: Path, index: int, problem: str) -> AnnotationError:
    return AnnotationError(f"{row_source(path, index)}: {problem}")


def required_cell(path: Path, index: int, record: Mapping[str, str], column: str) -> str:
    value = record[column].strip()
    if not value:
        raise bad_row(path, index, f"empty {column!r}")
    return value


def check_option_names(reader: str, options: Mapping[str, object], known: Iterable[str]) -> None:
    known = sorted(known)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"reader {reader!r}: unknown option(s) {unknown}; known options: {known}")


def bool_option(reader: str, options: Mapping[str, object], key: str, default: bool) -> bool:
    value = options.get(key, default)
    # A YAML string such as "false" would otherwise be truthy.
    if not isinstance(value, bool):
        raise ValueError(f"reader {reader!r}: option {key!r} must be true or false, got {value!r}")
    return value


def list_option(
    reader: str,
    options: Mapping[str, object],
    key: str,
    default: tuple[T, ...],
    item_type: type[T],
) -> tuple[T, ...]:
    value = options.get(key, default)
    # A bare string is iterable too, and bool is an int; neither is meant here.
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"reader {reader!r}: option {key!r} must be a list, got {value!r}")
    items = tuple(value)
    wrong = [item for item in items if not isinstance(item, item_type) or isinstance(item, bool)]
    if wrong:
        raise ValueError(f"reader {reader!r}: option {key!r} must list {item_type.__name__} values, got {wrong}")
    return items


def readable_tag(label: str) -> str:
    """Corpora write multi-word labels with underscores ("church_bells"); seeds read as text."""
    return label.strip().replace("_", " ")


def path_option(reader: str, root: Path, options: Mapping[str, object], key: str, default: str) -> Path:
    value = options.get(key, default)
    if not isinstance(value, (str, Path)):
        raise ValueError(f"reader {reader!r}: option {key!r} must be a path, got {value!r}")
    # A relative path is inside the corpus root; an absolute one replaces it.
    return Path(root) / value


def splits_option(reader: str, options: Mapping[str, object], choices: tuple[str, ...]) -> tuple[str, ...]:
    """The ``splits`` option: distinct values among ``choices``, all of them by default."""
    splits = list_option(reader, options, "splits", choices, str)
    if any(split not in choices for split in splits) or len(set(splits)) != len(splits):
        raise ValueError(
            f"reader {reader!r}: option 'splits' must list distinct values of {choices}, got {list(splits)}"
        )
    return splits


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


def fold_splits(reader: str, options: Mapping[str, object], folds: range, default_test: tuple[int, ...]) -> FoldSplits:
    """``test_folds`` / ``val_folds`` options, checked against the corpus's folds and each other."""

    def fold_option(key: str, default: tuple[int, ...]) -> frozenset[int]:
        chosen = frozenset(list_option(reader, options, key, default, int))
        outside = sorted(fold for fold in chosen if fold not in folds)
        if outside:
            raise ValueError(f"reader {reader!r}: option {key!r} has folds {outside} outside {folds[0]}-{folds[-1]}")
        return chosen

    test, val = fold_option("test_folds", default_test), fold_option("val_folds", ())
    if test & val:
        raise ValueError(f"reader {reader!r}: folds {sorted(test & val)} are in both test_folds and val_folds")
    return FoldSplits(test=test, val=val)


@dataclass(frozen=True)
class FoldReaderOptions:
    """Options of a fold-based corpus (ESC-50, UrbanSound8K)."""

    splits: FoldSplits
    probe_audio: bool


def fold_reader_options(
    reader: str, options: Mapping[str, object], folds: range, default_test: tuple[int, ...]
) -> FoldReaderOptions:
    check_option_names(reader, options, ("test_folds", "val_folds", "probe_audio"))
    return FoldReaderOptions(
        splits=fold_splits(reader, options, folds, default_test),
        probe_audio=bool_option(reader, options, "probe_audio", True),
    )


def fold_number(path: Path, index: int, record: Mapping[str, str], folds: range) -> int:
    fold_text = required_cell(path, index, record, "fold")
    if not fold_text.isdecimal() or int(fold_text) not in folds:
        raise bad_row(path, index, f"fold {fold_text!r} is not a whole number from {folds[0]} to {folds[-1]}")
    return int(fold_text)


def tags_seed(
    clip_id: str, corpus: str, split: str, audio_path: Path | str, tags: list[str], source: str
) -> dict[str, object]:
    """The one seed of a tagged clip: its tags, joined, are the seed text."""
    return {
        "seed_id": clip_id,
        "clip_id": clip_id,
        "corpus": corpus,
        "split": split,
        "audio_path": str(audio_path),
        "seed_kind": "tags",
        "seed_text": ", ".join(tags),
        "tags": tags,
        "source": source,
    }


def _probe_outcome(path: str) -> AudioInfo | AudioError:
    try:
        return probe_audio(path)
    except AudioError as error:
        return error


def _metadata_frame(rows: pd.DataFrame) -> pd.DataFrame:
    return (
        rows.reindex(columns=METADATA_SCHEMA.names)
        .astype({"offset_s": "float64", "duration_s": "float64", "sample_rate": "int32", "channels": "int32"})
        .reset_index(drop=True)
    )


def _rejects_frame(rejects: pd.DataFrame) -> pd.DataFrame:
    return rejects.reindex(columns=REJECTS_SCHEMA.names).astype("string").reset_index(drop=True)


def probe_seeds(seeds: pd.DataFrame, probe: bool = True) -> ReadResult:
    """Fill ``duration_s``, ``sample_rate`` and ``channels`` from each audio header, read once per file.

    Seeds whose file is missing, unreadable or empty become rejects carrying the reason.
    With ``probe`` off no file is touched: durations are NaN, rates 0, nothing is rejected.
    """
    if not probe:
        unprobed = seeds.assign(offset_s=0.0, duration_s=np.nan, sample_rate=0, channels=0)
        return ReadResult(rows=_metadata_frame(unprobed), rejects=empty_rejects())
    outcomes = {path: _probe_outcome(path) for path in seeds["audio_path"].unique()}
    outcome_per_seed = seeds["audio_path"].map(outcomes)
    failed = outcome_per_seed.map(lambda outcome: isinstance(outcome, AudioError)).astype(bool)
    good = seeds[~failed]
    good_infos = outcome_per_seed[~failed]
    rows = good.assign(
        offset_s=0.0,
        duration_s=good_infos.map(lambda info: info.duration_s),
        sample_rate=good_infos.map(lambda info: info.sample_rate),
        channels=good_infos.map(lambda info: info.channels),
    )
    rejects = seeds[failed].assign(reason=outcome_per_seed[failed].map(lambda error: error.reason))
    return ReadResult(rows=_metadata_frame(rows), rejects=_rejects_frame(rejects))
