"""Your own data: a manifest (CSV, TSV, Parquet or JSONL) lists audio files with captions and/or tags.

Each row names one audio file (``audio``: relative to the manifest's folder, or absolute) and
annotates it with a ``caption`` and/or ``tags``; ``split``, ``clip_id`` and an
``offset_s``/``duration_s`` window are optional. Rows sharing a clip id are one clip, so a
caption per row (the AudioCaps habit) and several captions in one row both work. Seeds follow
the other readers: each caption is a seed and keeps the clip's tags (as in MACS); a clip
without captions is one seed of its tags.

A row that names no audio file, or carries neither a caption nor tags, is rejected with its
row and reason, as are missing, unreadable and empty files and windows past a file's end;
anything that cannot be right for the whole manifest (a missing column, an unknown split, a
window that is not a number of seconds) stops the read with the file and row named.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from balsa_core.metadata import REJECTS_SCHEMA, SPLITS
from balsa_core.readers.common import (
    AnnotationError,
    ReaderOptions,
    ReadResult,
    caption_seed,
    data_rows,
    parse_seconds,
    probe_seeds,
    read_delimited,
    readable_tag,
    tags_seed,
)

READER = "manifest"
OPTION_NAMES = ("manifest", "columns", "default_split", "tag_separator", "probe_audio")
# The roles a manifest column can play; by default each is read from the column of its name.
ROLES = ("audio", "split", "caption", "tags", "clip_id", "offset_s", "duration_s")
NO_AUDIO_PATH = "no audio path"
NO_ANNOTATION = "no caption or tags"
# A window may overrun its file by this much (durations written rounded) and is cut to the file.
WINDOW_SLACK_S = 0.01


@dataclass(frozen=True)
class ManifestOptions:
    manifest: Path
    # role -> manifest column(s); only "caption" may name several.
    columns: Mapping[str, tuple[str, ...]]
    # Roles the user named in ``columns``: their columns must exist, the default ones may not.
    named: frozenset[str]
    default_split: str
    tag_separator: str
    probe_audio: bool


@dataclass(frozen=True)
class Table:
    """A manifest's column names and its rows, each with its ``file:line`` (or ``file:row n``)."""

    columns: list[str]
    rows: list[tuple[str, Mapping[str, object]]]


@dataclass(frozen=True)
class Window:
    offset_s: float = 0.0
    duration_s: float | None = None  # None: to the end of the file

    def __str__(self) -> str:
        end = "the end" if self.duration_s is None else f"{self.offset_s + self.duration_s:g} s"
        return f"{self.offset_s:g} s to {end}"


@dataclass(frozen=True)
class Entry:
    """One usable manifest row."""

    source: str
    clip_id: str
    audio_path: Path
    split: str
    window: Window
    captions: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Reject:
    corpus: str
    audio_path: str
    source: str
    reason: str


# --- options ------------------------------------------------------------------------------------


def _column_names(role: str, value: object) -> tuple[str, ...]:
    several = role == "caption" and isinstance(value, list)
    names = tuple(value) if several else (value,)
    if not names or not all(isinstance(name, str) and name for name in names):
        expected = "a column name or a list of them" if role == "caption" else "a column name"
        raise ValueError(f"reader {READER!r}: option 'columns': {role!r} must be {expected}, got {value!r}")
    return names


def _columns_option(given: ReaderOptions) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    value = given.get("columns", {})
    if not isinstance(value, Mapping):
        raise given.error("columns", f"must map roles to column names, got {value!r}")
    unknown = sorted(set(map(str, value)) - set(ROLES))
    if unknown:
        raise given.error("columns", f"has unknown role(s) {unknown}; roles: {list(ROLES)}")
    named = {str(role): _column_names(str(role), names) for role, names in value.items()}
    return {role: named.get(role, (role,)) for role in ROLES}, frozenset(named)


def parse_options(root: Path, options: Mapping[str, object]) -> ManifestOptions:
    given = ReaderOptions(READER, options, OPTION_NAMES)
    manifest = given.path(root, "manifest", "manifest.csv")
    if manifest.suffix.lower() not in LOADERS:
        raise given.error("manifest", f"must end in one of {sorted(LOADERS)}, got {manifest}")
    separator = given.get("tag_separator", ",")
    if not isinstance(separator, str) or not separator:
        raise given.error("tag_separator", f"must be non-empty text, got {separator!r}")
    columns, named = _columns_option(given)
    return ManifestOptions(
        manifest=manifest,
        columns=columns,
        named=named,
        default_split=given.choice("default_split", SPLITS, "train"),
        tag_separator=separator,
        probe_audio=given.probe_audio,
    )


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    return [parse_options(Path(root), options).manifest]


# --- loading ------------------------------------------------------------------------------------


def _delimited_loader(separator: str, kind: str) -> Callable[[Path], Table]:
    def load(path: Path) -> Table:
        frame = read_delimited(path, separator, kind)
        return Table(list(frame.columns), [(row.source, row.record) for row in data_rows(path, frame)])

    return load


def _load_parquet(path: Path) -> Table:
    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowException, OSError) as error:
        raise AnnotationError(f"{path}: not a readable Parquet file ({error})") from error
    records = frame.to_dict("records")
    return Table(list(frame.columns), [(f"{path}:row {index + 1}", record) for index, record in enumerate(records)])


def _load_jsonl(path: Path) -> Table:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise AnnotationError(f"{path}: not a readable JSONL file ({error})") from error
    rows: list[tuple[str, Mapping[str, object]]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise AnnotationError(f"{path}:{number}: not a JSON object ({error})") from error
        if not isinstance(record, dict):
            raise AnnotationError(f"{path}:{number}: not a JSON object, got {type(record).__name__}")
        rows.append((f"{path}:{number}", record))
    # A key absent from a line reads as an empty cell; the columns are every key seen.
    columns = list(dict.fromkeys(key for _, record in rows for key in record))
    return Table(columns, rows)


LOADERS: dict[str, Callable[[Path], Table]] = {
    ".csv": _delimited_loader(",", "CSV"),
    ".tsv": _delimited_loader("\t", "TSV"),
    ".parquet": _load_parquet,
    ".jsonl": _load_jsonl,
}


def load_manifest(path: Path) -> Table:
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    return LOADERS[path.suffix.lower()](path)


def present_columns(path: Path, found: Sequence[str], options: ManifestOptions) -> dict[str, tuple[str, ...]]:
    """role -> the manifest's columns for it; raises naming the file when one that must be there is not."""
    required = [options.columns["audio"][0]] + [
        column for role in sorted(options.named) for column in options.columns[role]
    ]
    missing = [column for column in dict.fromkeys(required) if column not in found]
    if missing:
        raise AnnotationError(f"{path}: missing column(s) {missing}; found {list(found)}")
    present = {role: tuple(column for column in names if column in found) for role, names in options.columns.items()}
    if not present["caption"] and not present["tags"]:
        expected = [*options.columns["caption"], *options.columns["tags"]]
        raise AnnotationError(f"{path}: no caption or tags column (expected one of {expected}); found {list(found)}")
    return present


# --- cells --------------------------------------------------------------------------------------


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(source: str, column: str, value: object) -> str:
    if _is_empty(value):
        return ""
    if isinstance(value, str):
        return value.strip()
    # Parquet and JSON keep numbers as numbers; an id such as 17 reads as "17".
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return str(value)
    raise AnnotationError(f"{source}: {column!r} must be text, got {value!r}")


def _texts(source: str, column: str, value: object, separator: str | None) -> list[str]:
    """A list cell's items, or a text cell split at ``separator`` (whole if None); empty items dropped."""
    if isinstance(value, (list, tuple, np.ndarray)):
        wrong = [item for item in value if not isinstance(item, str)]
        if wrong:
            raise AnnotationError(f"{source}: {column!r} must list text, got {wrong}")
        items = list(value)
    else:
        text = _text(source, column, value)
        items = text.split(separator) if separator is not None else [text]
    return [item.strip() for item in items if item.strip()]


def _seconds(source: str, column: str, value: object) -> float | None:
    text = _text(source, column, value)
    if not text:
        return None
    seconds = parse_seconds(text)
    if seconds is None:
        raise AnnotationError(f"{source}: {column} {text!r} is not a number of seconds")
    return seconds


def _cell(record: Mapping[str, object], columns: Mapping[str, tuple[str, ...]], role: str) -> object:
    return record.get(columns[role][0]) if columns[role] else None


# --- rows ---------------------------------------------------------------------------------------


def _window(source: str, record: Mapping[str, object], columns: Mapping[str, tuple[str, ...]]) -> Window:
    offset = _seconds(source, "offset_s", _cell(record, columns, "offset_s"))
    duration = _seconds(source, "duration_s", _cell(record, columns, "duration_s"))
    if duration == 0:
        raise AnnotationError(f"{source}: duration_s must be more than 0 seconds")
    return Window(offset_s=offset or 0.0, duration_s=duration)


def derived_clip_id(manifest_dir: Path, audio_path: Path, window: Window) -> str:
    """The audio path relative to the manifest (else without its anchor), less its suffix, plus the window.

    The folders stay in the id so that ``a/x.wav`` and ``b/x.wav`` are two clips.
    """
    try:
        relative = audio_path.relative_to(manifest_dir)
    except ValueError:
        relative = audio_path.relative_to(audio_path.anchor)
    clip_id = relative.with_suffix("").as_posix()
    if window == Window():
        return clip_id
    end = "" if window.duration_s is None else f"-{window.offset_s + window.duration_s:g}"
    return f"{clip_id}@{window.offset_s:g}{end}"


def _entry_or_reject(
    corpus: str,
    options: ManifestOptions,
    columns: Mapping[str, tuple[str, ...]],
    source: str,
    record: Mapping[str, object],
) -> Entry | Reject:
    audio = _text(source, "audio", _cell(record, columns, "audio"))
    if not audio:
        return Reject(corpus, "", source, NO_AUDIO_PATH)
    # A relative path is inside the manifest's folder; an absolute one stands alone.
    audio_path = options.manifest.parent / audio
    split = _text(source, "split", _cell(record, columns, "split")) or options.default_split
    if split not in SPLITS:
        raise AnnotationError(f"{source}: split {split!r} is not one of {SPLITS}")
    window = _window(source, record, columns)
    given_id = _text(source, "clip_id", _cell(record, columns, "clip_id"))
    captions = [text for column in columns["caption"] for text in _texts(source, column, record.get(column), None)]
    tags = [readable_tag(tag) for tag in _texts(source, "tags", _cell(record, columns, "tags"), options.tag_separator)]
    if not captions and not tags:
        return Reject(corpus, str(audio_path), source, NO_ANNOTATION)
    return Entry(
        source=source,
        clip_id=f"{corpus}/{given_id or derived_clip_id(options.manifest.parent, audio_path, window)}",
        audio_path=audio_path,
        split=split,
        window=window,
        captions=tuple(captions),
        tags=tuple(dict.fromkeys(tags)),
    )


def group_clips(entries: Sequence[Entry]) -> dict[str, list[Entry]]:
    """Rows by clip id, in manifest order; a clip's rows must agree on its file, split and window."""
    clips: dict[str, list[Entry]] = {}
    for entry in entries:
        rows = clips.setdefault(entry.clip_id, [])
        if rows:
            first = rows[0]
            for field in ("audio_path", "split", "window"):
                if getattr(entry, field) != getattr(first, field):
                    raise AnnotationError(
                        f"{entry.source}: clip {entry.clip_id!r} has {field} {getattr(entry, field)} here but "
                        f"{getattr(first, field)} in {first.source}; give the two their own clip_id"
                    )
        rows.append(entry)
    return clips


def clip_seeds(corpus: str, rows: Sequence[Entry]) -> list[dict[str, object]]:
    """Each caption a seed carrying the clip's tags (as in MACS); with no caption, one tags seed."""
    first = rows[0]
    tags = list(dict.fromkeys(tag for row in rows for tag in row.tags))
    captions = [(row.source, caption) for row in rows for caption in row.captions]
    if not captions:
        return [tags_seed(first.clip_id, corpus, first.split, first.audio_path, tags, first.source)]
    return [
        caption_seed(
            seed_id=f"{first.clip_id}#{number}",
            clip_id=first.clip_id,
            corpus=corpus,
            split=first.split,
            audio_path=first.audio_path,
            caption=caption,
            tags=tags,
            source=source,
        )
        for number, (source, caption) in enumerate(captions, start=1)
    ]


# --- windows ------------------------------------------------------------------------------------


def apply_windows(result: ReadResult, sources: Mapping[str, str], windows: Mapping[str, Window]) -> ReadResult:
    """Set each clip's window on its probed rows; a window past its file's end becomes a reject.

    ``sources`` maps seed ids to their rows, which the probed metadata no longer carries.
    Unprobed rows (NaN durations) keep the window as written.
    """
    rows = result.rows
    offset = rows["clip_id"].map(lambda clip_id: windows[clip_id].offset_s).astype("float64")
    given = rows["clip_id"].map(lambda clip_id: windows[clip_id].duration_s).astype("float64")
    file_s = rows["duration_s"]
    end = offset + given.fillna(file_s - offset)
    past_end = (offset >= file_s) | (end > file_s + WINDOW_SLACK_S)
    rejects = pd.DataFrame(
        {
            "corpus": rows.loc[past_end, "corpus"],
            "audio_path": rows.loc[past_end, "audio_path"],
            "source": rows.loc[past_end, "seed_id"].map(sources),
            "reason": [
                f"window {start:g}-{stop:g} s is past the end of the file ({length:.3f} s)"
                for start, stop, length in zip(offset[past_end], end[past_end], file_s[past_end], strict=True)
            ],
        },
        columns=REJECTS_SCHEMA.names,
    ).astype("string")
    kept = rows.assign(offset_s=offset, duration_s=end.where(~(end > file_s), file_s) - offset)[~past_end]
    return ReadResult(
        rows=kept.reset_index(drop=True),
        rejects=pd.concat([result.rejects, rejects], ignore_index=True),
    )


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    parsed = parse_options(Path(root), options)
    table = load_manifest(parsed.manifest)
    columns = present_columns(parsed.manifest, table.columns, parsed)
    outcomes = [_entry_or_reject(name, parsed, columns, source, record) for source, record in table.rows]
    clips = group_clips([outcome for outcome in outcomes if isinstance(outcome, Entry)])
    seeds = [seed for rows in clips.values() for seed in clip_seeds(name, rows)]
    return apply_windows(
        probe_seeds(
            seeds,
            probe=parsed.probe_audio,
            rejects=[asdict(outcome) for outcome in outcomes if isinstance(outcome, Reject)],
        ),
        sources={seed["seed_id"]: seed["source"] for seed in seeds},
        windows={clip_id: rows[0].window for clip_id, rows in clips.items()},
    )
