"""AudioCaps: ``{train,val,test}.csv`` caption 10 s YouTube segments the user downloads.

The corpus ships no audio, so file names depend on the download tool; the usual
conventions are tried in order (see ``audio_stems``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from balsa_core.metadata import SPLITS
from balsa_core.readers.common import (
    SEED_COLUMNS,
    ReadResult,
    bad_row,
    bool_option,
    check_option_names,
    path_option,
    probe_seeds,
    read_annotation_csv,
    required_cell,
    row_source,
    splits_option,
)

READER = "audiocaps"
REQUIRED_COLUMNS = ("audiocap_id", "youtube_id", "start_time", "caption")
AUDIO_EXTENSIONS = (".wav", ".flac")
SEGMENT_S = 10.0


@dataclass(frozen=True)
class AudioCapsOptions:
    splits: tuple[str, ...]
    audio_dir: Path
    probe_audio: bool


def parse_options(root: Path, options: Mapping[str, object]) -> AudioCapsOptions:
    check_option_names(READER, options, ("splits", "audio_dir", "probe_audio"))
    splits = splits_option(READER, options, SPLITS)
    return AudioCapsOptions(
        splits=splits,
        audio_dir=path_option(READER, root, options, "audio_dir", "audio"),
        probe_audio=bool_option(READER, options, "probe_audio", True),
    )


def split_file(root: Path, split: str) -> Path:
    return Path(root) / f"{split}.csv"


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    return [split_file(root, split) for split in parse_options(root, options).splits]


def audio_stems(youtube_id: str, start_time: str) -> list[str]:
    """File stems a downloaded segment may have, most common first."""
    start_s = float(start_time)
    # AudioSet-style downloads name segments Y<id>_<start>_<end> with millisecond decimals.
    segment = f"{start_s:.3f}_{start_s + SEGMENT_S:.3f}"
    return [
        f"Y{youtube_id}",
        youtube_id,
        f"Y{youtube_id}_{start_time}",
        f"{youtube_id}_{start_time}",
        f"Y{youtube_id}_{segment}",
        f"{youtube_id}_{segment}",
    ]


def _is_start_time(text: str) -> bool:
    try:
        seconds = float(text)
    except ValueError:
        return False
    return math.isfinite(seconds) and seconds >= 0


def _file_names(directory: Path) -> frozenset[str]:
    # One directory listing instead of a stat per candidate name keeps large corpora fast.
    if not directory.is_dir():
        return frozenset()
    return frozenset(entry.name for entry in directory.iterdir())


def find_audio(directories: list[tuple[Path, frozenset[str]]], youtube_id: str, start_time: str) -> Path | None:
    stems = audio_stems(youtube_id, start_time)
    for directory, names in directories:
        for stem in stems:
            for extension in AUDIO_EXTENSIONS:
                if stem + extension in names:
                    return directory / (stem + extension)
    return None


def _seed(
    corpus: str,
    split: str,
    csv_path: Path,
    index: int,
    record: Mapping[str, str],
    directories: list[tuple[Path, frozenset[str]]],
    fallback_dir: Path,
) -> dict[str, object]:
    audiocap_id = required_cell(csv_path, index, record, "audiocap_id")
    youtube_id = required_cell(csv_path, index, record, "youtube_id")
    start_time = required_cell(csv_path, index, record, "start_time")
    caption = required_cell(csv_path, index, record, "caption")
    if not _is_start_time(start_time):
        raise bad_row(csv_path, index, f"start_time {start_time!r} is not a number of seconds")
    found = find_audio(directories, youtube_id, start_time)
    # An absent file keeps the most common name so the rejects table shows where it was expected.
    audio_path = found if found is not None else fallback_dir / f"Y{youtube_id}.wav"
    return {
        "seed_id": f"{corpus}/{audiocap_id}",
        "clip_id": f"{corpus}/{audio_path.stem}",
        "corpus": corpus,
        "split": split,
        "audio_path": str(audio_path),
        "seed_kind": "caption",
        "seed_text": caption,
        "tags": [],
        "source": row_source(csv_path, index),
    }


def _split_seeds(corpus: str, root: Path, split: str, options: AudioCapsOptions) -> list[dict[str, object]]:
    csv_path = split_file(root, split)
    table = read_annotation_csv(csv_path, REQUIRED_COLUMNS)
    directories = [(directory, _file_names(directory)) for directory in (options.audio_dir, options.audio_dir / split)]
    return [
        _seed(corpus, split, csv_path, index, record, directories, options.audio_dir)
        for index, record in enumerate(table.to_dict("records"))
    ]


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    root = Path(root)
    parsed = parse_options(root, options)
    seeds = pd.DataFrame(
        [seed for split in parsed.splits for seed in _split_seeds(name, root, split, parsed)],
        columns=SEED_COLUMNS,
    )
    return probe_seeds(seeds, probe=parsed.probe_audio)
