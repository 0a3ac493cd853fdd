"""AudioSet balanced train ("AudioSet-20K"): ``balanced_train_segments.csv`` tags 10 s YouTube segments.

The segments file is not a plain CSV: three ``#`` lines come first, the last naming the
columns (``# YTID, start_seconds, end_seconds, positive_labels``), fields are separated
by a comma and a space, and the label mids are one quoted, comma-separated field.
Labels are named through ``ontology.json`` or ``class_labels_indices.csv``. As for
AudioCaps the user downloads the audio, so the usual file names are tried in order.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from balsa_core.metadata import SPLITS
from balsa_core.ontology import OntologyError, load_class_labels, load_ontology
from balsa_core.readers.audiocaps import AUDIO_EXTENSIONS
from balsa_core.readers.common import (
    SEED_COLUMNS,
    AnnotationError,
    ReadResult,
    bad_row,
    bool_option,
    check_option_names,
    path_option,
    probe_seeds,
    required_cell,
    row_source,
    tags_seed,
)

READER = "audioset"
REQUIRED_COLUMNS = ("YTID", "start_seconds", "end_seconds", "positive_labels")
OPTION_NAMES = ("segments", "audio_dir", "split", "ontology", "class_labels", "probe_audio")


@dataclass(frozen=True)
class AudioSetOptions:
    segments: Path
    audio_dir: Path
    split: str
    ontology: Path
    # When given, class_labels_indices.csv names the labels instead of the ontology.
    class_labels: Path | None
    probe_audio: bool

    @property
    def label_names_file(self) -> Path:
        return self.ontology if self.class_labels is None else self.class_labels


@dataclass(frozen=True)
class SegmentRow:
    line: int
    record: dict[str, str]


def parse_options(root: Path, options: Mapping[str, object]) -> AudioSetOptions:
    check_option_names(READER, options, OPTION_NAMES)
    root = Path(root)
    split = options.get("split", "train")
    if split not in SPLITS:
        raise ValueError(f"reader {READER!r}: option 'split' must be one of {SPLITS}, got {split!r}")
    return AudioSetOptions(
        segments=path_option(READER, root, options, "segments", "balanced_train_segments.csv"),
        audio_dir=path_option(READER, root, options, "audio_dir", "audio"),
        split=str(split),
        ontology=path_option(READER, root, options, "ontology", "ontology.json"),
        class_labels=(
            path_option(READER, root, options, "class_labels", "class_labels_indices.csv")
            if "class_labels" in options
            else None
        ),
        probe_audio=bool_option(READER, options, "probe_audio", True),
    )


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    parsed = parse_options(root, options)
    return [parsed.segments, parsed.label_names_file]


def load_label_names(options: AudioSetOptions) -> Mapping[str, str]:
    """mid -> class name, from the class labels file when one is given, else from the ontology."""
    try:
        if options.class_labels is not None:
            return load_class_labels(options.class_labels)
        return load_ontology(options.ontology).names
    except OntologyError as error:
        raise AnnotationError(str(error)) from error


def _data_index(line: int) -> int:
    # The common helpers name a row "file:(index + 2)", counting one header line; the
    # segments file has comment lines first, so rows are addressed by their real line.
    return line - 2


def _fields(path: Path, line: int, text: str) -> list[str]:
    try:
        # skipinitialspace lets the quote after ", " open a quoted field.
        return next(csv.reader([text], skipinitialspace=True))
    except csv.Error as error:
        raise bad_row(path, _data_index(line), f"not a readable CSV line ({error})") from error


def _header_columns(path: Path, comment: str | None) -> list[str]:
    if comment is None:
        raise AnnotationError(f"{path}: no '# {', '.join(REQUIRED_COLUMNS)}' header line before the first segment")
    columns = [column.strip() for column in comment.lstrip("#").split(",")]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise AnnotationError(f"{path}: missing column(s) {missing}; found {columns}")
    return columns


def read_segments(path: Path) -> list[SegmentRow]:
    """The data rows of a segments file as column -> cell, each with its line number.

    The column names come from the last ``#`` line before the first data row.
    """
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise AnnotationError(f"{path}: not a readable text file ({error})") from error
    last_comment: str | None = None
    columns: list[str] | None = None
    rows: list[SegmentRow] = []
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if text.startswith("#"):
            last_comment = text
            continue
        if columns is None:
            columns = _header_columns(path, last_comment)
        fields = _fields(path, line, text)
        if len(fields) != len(columns):
            raise bad_row(
                path,
                _data_index(line),
                f"expected {len(columns)} fields ({', '.join(columns)}), got {len(fields)}; is the label list quoted?",
            )
        rows.append(SegmentRow(line=line, record=dict(zip(columns, fields, strict=True))))
    if columns is None:
        # A file with no segments still has to be a segments file.
        _header_columns(path, last_comment)
    return rows


def _seconds(path: Path, line: int, record: Mapping[str, str], column: str) -> float:
    text = required_cell(path, _data_index(line), record, column)
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise bad_row(path, _data_index(line), f"{column} {text!r} is not a number of seconds")
    return seconds


def _seconds_text(seconds: float) -> str:
    # "30.000" -> "30", "30.500" -> "30.5": how start-only file names usually spell it.
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def audio_stems(youtube_id: str, start_s: float, end_s: float) -> list[str]:
    """File stems a downloaded segment may have, most common first (as for AudioCaps)."""
    segment = f"{start_s:.3f}_{end_s:.3f}"
    start = _seconds_text(start_s)
    return [
        f"Y{youtube_id}",
        youtube_id,
        f"Y{youtube_id}_{segment}",
        f"{youtube_id}_{segment}",
        f"Y{youtube_id}_{start}",
        f"{youtube_id}_{start}",
    ]


def _file_names(directory: Path) -> frozenset[str]:
    # One directory listing instead of a stat per candidate name keeps large corpora fast.
    if not directory.is_dir():
        return frozenset()
    return frozenset(entry.name for entry in directory.iterdir())


def find_audio(directories: list[tuple[Path, frozenset[str]]], stems: list[str]) -> Path | None:
    for directory, names in directories:
        for stem in stems:
            for extension in AUDIO_EXTENSIONS:
                if stem + extension in names:
                    return directory / (stem + extension)
    return None


def label_tags(path: Path, line: int, labels: str, label_names: Mapping[str, str], names_file: Path) -> list[str]:
    mids = [mid.strip() for mid in labels.split(",")]
    if "" in mids:
        raise bad_row(path, _data_index(line), f"empty mid in positive_labels {labels!r}")
    unknown = [mid for mid in mids if mid not in label_names]
    if unknown:
        raise bad_row(path, _data_index(line), f"unknown label mid(s) {unknown}: not in {names_file}")
    return [label_names[mid] for mid in mids]


def _seed(
    corpus: str,
    options: AudioSetOptions,
    row: SegmentRow,
    label_names: Mapping[str, str],
    directories: list[tuple[Path, frozenset[str]]],
) -> dict[str, object]:
    path, line, record = options.segments, row.line, row.record
    youtube_id = required_cell(path, _data_index(line), record, "YTID")
    start_s = _seconds(path, line, record, "start_seconds")
    end_s = _seconds(path, line, record, "end_seconds")
    if end_s <= start_s:
        raise bad_row(path, _data_index(line), f"end_seconds {end_s} is not after start_seconds {start_s}")
    labels = required_cell(path, _data_index(line), record, "positive_labels")
    tags = label_tags(path, line, labels, label_names, options.label_names_file)
    found = find_audio(directories, audio_stems(youtube_id, start_s, end_s))
    # An absent file keeps the most common name so the rejects table shows where it was expected.
    audio_path = found if found is not None else options.audio_dir / f"Y{youtube_id}.wav"
    return tags_seed(
        f"{corpus}/{audio_path.stem}", corpus, options.split, audio_path, tags, row_source(path, _data_index(line))
    )


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    parsed = parse_options(Path(root), options)
    rows = read_segments(parsed.segments)
    label_names = load_label_names(parsed)
    directories = [
        (directory, _file_names(directory)) for directory in (parsed.audio_dir, parsed.audio_dir / parsed.split)
    ]
    seeds = pd.DataFrame(
        [_seed(name, parsed, row, label_names, directories) for row in rows],
        columns=SEED_COLUMNS,
    )
    return probe_seeds(seeds, probe=parsed.probe_audio)
