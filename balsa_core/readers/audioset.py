"""AudioSet balanced train ("AudioSet-20K"): ``balanced_train_segments.csv`` tags 10 s YouTube segments.

The segments file is not a plain CSV: three ``#`` lines come first, the last naming the
columns (``# YTID, start_seconds, end_seconds, positive_labels``), fields are separated
by a comma and a space, and the label mids are one quoted, comma-separated field.
Labels are named through ``ontology.json`` or ``class_labels_indices.csv``. As for
AudioCaps the user downloads the audio, so the usual file names are tried in order.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balsa_core.metadata import SPLITS
from balsa_core.ontology import OntologyError, load_class_labels, load_ontology
from balsa_core.readers.common import (
    AnnotationError,
    AnnotationRow,
    ListedDirectories,
    ReaderOptions,
    ReadResult,
    bad_line,
    downloaded_audio_path,
    list_directories,
    parse_seconds,
    probe_seeds,
    tags_seed,
    youtube_stems,
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


def parse_options(root: Path, options: Mapping[str, object]) -> AudioSetOptions:
    given = ReaderOptions(READER, options, OPTION_NAMES)
    split = given.choice("split", SPLITS, "train")
    return AudioSetOptions(
        segments=given.path(root, "segments", "balanced_train_segments.csv"),
        audio_dir=given.path(root, "audio_dir", "audio"),
        split=split,
        ontology=given.path(root, "ontology", "ontology.json"),
        class_labels=given.path(root, "class_labels", "class_labels_indices.csv") if "class_labels" in given else None,
        probe_audio=given.probe_audio,
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


def _fields(path: Path, line: int, text: str) -> list[str]:
    try:
        # skipinitialspace lets the quote after ", " open a quoted field.
        return next(csv.reader([text], skipinitialspace=True))
    except csv.Error as error:
        raise bad_line(path, line, f"not a readable CSV line ({error})") from error


def _header_columns(path: Path, comment: str | None) -> list[str]:
    if comment is None:
        raise AnnotationError(f"{path}: no '# {', '.join(REQUIRED_COLUMNS)}' header line before the first segment")
    columns = [column.strip() for column in comment.lstrip("#").split(",")]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise AnnotationError(f"{path}: missing column(s) {missing}; found {columns}")
    return columns


def read_segments(path: Path) -> list[AnnotationRow]:
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
    rows: list[AnnotationRow] = []
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
            raise bad_line(
                path,
                line,
                f"expected {len(columns)} fields ({', '.join(columns)}), got {len(fields)}; is the label list quoted?",
            )
        rows.append(AnnotationRow(path, line, dict(zip(columns, fields, strict=True))))
    if columns is None:
        # A file with no segments still has to be a segments file.
        _header_columns(path, last_comment)
    return rows


def _seconds(row: AnnotationRow, column: str) -> float:
    text = row.cell(column)
    seconds = parse_seconds(text)
    if seconds is None:
        raise row.error(f"{column} {text!r} is not a number of seconds")
    return seconds


def _seconds_text(seconds: float) -> str:
    # "30.000" -> "30", "30.500" -> "30.5": how start-only file names usually spell it.
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def audio_stems(youtube_id: str, start_s: float, end_s: float) -> list[str]:
    """File stems a downloaded segment may have, most common first (as for AudioCaps)."""
    return youtube_stems(youtube_id, ["", f"_{start_s:.3f}_{end_s:.3f}", f"_{_seconds_text(start_s)}"])


def label_tags(row: AnnotationRow, labels: str, label_names: Mapping[str, str], names_file: Path) -> list[str]:
    mids = [mid.strip() for mid in labels.split(",")]
    if "" in mids:
        raise row.error(f"empty mid in positive_labels {labels!r}")
    unknown = [mid for mid in mids if mid not in label_names]
    if unknown:
        raise row.error(f"unknown label mid(s) {unknown}: not in {names_file}")
    return [label_names[mid] for mid in mids]


def _seed(
    corpus: str,
    options: AudioSetOptions,
    row: AnnotationRow,
    label_names: Mapping[str, str],
    directories: ListedDirectories,
) -> dict[str, object]:
    youtube_id = row.cell("YTID")
    start_s = _seconds(row, "start_seconds")
    end_s = _seconds(row, "end_seconds")
    if end_s <= start_s:
        raise row.error(f"end_seconds {end_s} is not after start_seconds {start_s}")
    tags = label_tags(row, row.cell("positive_labels"), label_names, options.label_names_file)
    audio_path = downloaded_audio_path(directories, audio_stems(youtube_id, start_s, end_s))
    return tags_seed(f"{corpus}/{audio_path.stem}", corpus, options.split, audio_path, tags, row.source)


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    parsed = parse_options(Path(root), options)
    rows = read_segments(parsed.segments)
    label_names = load_label_names(parsed)
    directories = list_directories([parsed.audio_dir, parsed.audio_dir / parsed.split])
    seeds = [_seed(name, parsed, row, label_names, directories) for row in rows]
    return probe_seeds(seeds, probe=parsed.probe_audio)
