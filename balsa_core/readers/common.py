"""What every corpus reader shares: option checks, annotation loading, seeds, audio probing."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
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


# --- options ------------------------------------------------------------------------------------


class ReaderOptions:
    """One reader's options, checked one key at a time; every error names the reader and the option."""

    def __init__(self, reader: str, options: Mapping[str, object], known: Iterable[str]) -> None:
        known = sorted(known)
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"reader {reader!r}: unknown option(s) {unknown}; known options: {known}")
        self.reader = reader
        self._options = options

    def __contains__(self, key: str) -> bool:
        return key in self._options

    def get(self, key: str, default: object = None) -> object:
        """The value as given, for an option the reader checks itself."""
        return self._options.get(key, default)

    def error(self, key: str, problem: str) -> ValueError:
        return ValueError(f"reader {self.reader!r}: option {key!r} {problem}")

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        # A YAML string such as "false" would otherwise be truthy.
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    @property
    def probe_audio(self) -> bool:
        return self.flag("probe_audio", True)

    def path(self, root: Path, key: str, default: str) -> Path:
        value = self.get(key, default)
        if not isinstance(value, (str, Path)):
            raise self.error(key, f"must be a path, got {value!r}")
        # A relative path is inside the corpus root; an absolute one replaces it.
        return Path(root) / value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(key, default)
        if value not in choices:
            raise self.error(key, f"must be one of {choices}, got {value!r}")
        return str(value)

    def items(self, key: str, default: tuple[T, ...], item_type: type[T]) -> tuple[T, ...]:
        value = self.get(key, default)
        # A bare string is iterable too, and bool is an int; neither is meant here.
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise self.error(key, f"must be a list, got {value!r}")
        items = tuple(value)
        wrong = [item for item in items if not isinstance(item, item_type) or isinstance(item, bool)]
        if wrong:
            raise self.error(key, f"must list {item_type.__name__} values, got {wrong}")
        return items

    def splits(self, choices: tuple[str, ...]) -> tuple[str, ...]:
        """The ``splits`` option: distinct values among ``choices``, all of them by default."""
        splits = self.items("splits", choices, str)
        if any(split not in choices for split in splits) or len(set(splits)) != len(splits):
            raise self.error("splits", f"must list distinct values of {choices}, got {list(splits)}")
        return splits


# --- annotation files ---------------------------------------------------------------------------


def read_delimited(path: Path, separator: str = ",", kind: str = "CSV") -> pd.DataFrame:
    """A delimited text file with every cell as a string; raise AnnotationError naming the file on failure."""
    try:
        # All-string cells with no NA guessing: ids such as "nan" or "1e5" must stay verbatim,
        # and utf-8-sig drops the byte-order mark some spreadsheet exports prepend.
        return pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise AnnotationError(f"{path}: not a readable {kind} file ({error})") from error


def bad_line(path: Path, line: int, problem: str) -> AnnotationError:
    return AnnotationError(f"{path}:{line}: {problem}")


@dataclass(frozen=True)
class AnnotationRow:
    """One data row of an annotation file: its cells by column, and where it stands."""

    path: Path
    line: int
    record: Mapping[str, str]

    @property
    def source(self) -> str:
        """The row as ``file:line``, for rejects and error messages."""
        return f"{self.path}:{self.line}"

    def error(self, problem: str) -> AnnotationError:
        return bad_line(self.path, self.line, problem)

    def cell(self, column: str) -> str:
        """The cell, stripped; an empty one is an error naming the row and the column."""
        value = self.record[column].strip()
        if not value:
            raise self.error(f"empty {column!r}")
        return value


def data_rows(path: Path, table: pd.DataFrame) -> list[AnnotationRow]:
    """The rows of ``table``, read from ``path`` whose line 1 is the header."""
    return [AnnotationRow(path, index + 2, record) for index, record in enumerate(table.to_dict("records"))]


def read_annotation_rows(path: Path | str, required_columns: Iterable[str]) -> list[AnnotationRow]:
    """The data rows of a CSV, every cell a string; raise AnnotationError naming the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    table = read_delimited(path)
    missing = [column for column in required_columns if column not in table.columns]
    if missing:
        raise AnnotationError(f"{path}: missing column(s) {missing}; found {list(table.columns)}")
    return data_rows(path, table)


def parse_seconds(text: str) -> float | None:
    """``text`` as a finite, non-negative number of seconds; None when it is not one."""
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def readable_tag(label: str) -> str:
    """Corpora write multi-word labels with underscores ("church_bells"); seeds read as text."""
    return label.strip().replace("_", " ")


# --- audio the user downloads -------------------------------------------------------------------

# The download tools write either.
AUDIO_EXTENSIONS = (".wav", ".flac")
# Directories to look in, each with the names of the files in it.
ListedDirectories = Sequence[tuple[Path, frozenset[str]]]


def youtube_stems(youtube_id: str, suffixes: Iterable[str]) -> list[str]:
    """For each suffix, the file stem with the "Y" that AudioSet's own downloads put before ids, then without."""
    return [stem for suffix in suffixes for stem in (f"Y{youtube_id}{suffix}", f"{youtube_id}{suffix}")]


def list_directories(directories: Iterable[Path]) -> ListedDirectories:
    """Each directory with the names in it (none when it is absent)."""
    # One directory listing instead of a stat per candidate name keeps large corpora fast.
    return [
        (directory, frozenset(entry.name for entry in directory.iterdir()) if directory.is_dir() else frozenset())
        for directory in directories
    ]


def find_audio_file(directories: ListedDirectories, stems: Sequence[str]) -> Path | None:
    """The first audio file named by a stem, trying the directories, then the stems, in order."""
    for directory, names in directories:
        for stem in stems:
            for extension in AUDIO_EXTENSIONS:
                if stem + extension in names:
                    return directory / (stem + extension)
    return None


def downloaded_audio_path(directories: ListedDirectories, stems: Sequence[str]) -> Path:
    """The file found, else the most common name (the first stem) in the first directory.

    An absent file keeps that name so the rejects table shows where it was expected.
    """
    found = find_audio_file(directories, stems)
    return found if found is not None else directories[0][0] / f"{stems[0]}.wav"


# --- seeds --------------------------------------------------------------------------------------


def _seed(
    kind: str,
    seed_id: str,
    clip_id: str,
    corpus: str,
    split: str,
    audio_path: Path | str,
    text: str,
    tags: list[str],
    source: str,
) -> dict[str, object]:
    return {
        "seed_id": seed_id,
        "clip_id": clip_id,
        "corpus": corpus,
        "split": split,
        "audio_path": str(audio_path),
        "seed_kind": kind,
        "seed_text": text,
        "tags": tags,
        "source": source,
    }


def tags_seed(
    clip_id: str, corpus: str, split: str, audio_path: Path | str, tags: list[str], source: str
) -> dict[str, object]:
    """The one seed of a tagged clip: its tags, joined, are the seed text."""
    return _seed("tags", clip_id, clip_id, corpus, split, audio_path, ", ".join(tags), tags, source)


def caption_seed(
    seed_id: str,
    clip_id: str,
    corpus: str,
    split: str,
    audio_path: Path | str,
    caption: str,
    tags: list[str],
    source: str,
) -> dict[str, object]:
    """One caption of a clip as a seed; a clip with several captions has a seed for each."""
    return _seed("caption", seed_id, clip_id, corpus, split, audio_path, caption, tags, source)


# --- probing ------------------------------------------------------------------------------------


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


def _probed(seeds: pd.DataFrame, probe: bool) -> ReadResult:
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


def probe_seeds(
    seeds: Iterable[Mapping[str, object]], probe: bool = True, rejects: Iterable[Mapping[str, object]] = ()
) -> ReadResult:
    """Metadata rows from ``seeds``, with ``duration_s``, ``sample_rate`` and ``channels`` from each
    audio header, read once per file.

    Seeds whose file is missing, unreadable or empty become rejects carrying the reason, after
    ``rejects``, the rows the reader turned away itself (``corpus``, ``audio_path``, ``source``,
    ``reason``). With ``probe`` off no file is touched: durations are NaN, rates 0.
    """
    probed = _probed(pd.DataFrame(list(seeds), columns=SEED_COLUMNS), probe)
    own_rejects = pd.DataFrame(list(rejects), columns=REJECTS_SCHEMA.names).astype("string")
    return ReadResult(rows=probed.rows, rejects=pd.concat([own_rejects, probed.rejects], ignore_index=True))
