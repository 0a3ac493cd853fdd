"""AudioCaps: ``{train,val,test}.csv`` caption 10 s YouTube segments the user downloads.

The corpus ships no audio, so file names depend on the download tool; the usual
conventions are tried in order (see ``audio_stems``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balsa_core.metadata import SPLITS
from balsa_core.readers.common import (
    AnnotationRow,
    ListedDirectories,
    ReaderOptions,
    ReadResult,
    caption_seed,
    downloaded_audio_path,
    find_audio_file,
    list_directories,
    parse_seconds,
    probe_seeds,
    read_annotation_rows,
    youtube_stems,
)

READER = "audiocaps"
REQUIRED_COLUMNS = ("audiocap_id", "youtube_id", "start_time", "caption")
SEGMENT_S = 10.0


@dataclass(frozen=True)
class AudioCapsOptions:
    splits: tuple[str, ...]
    audio_dir: Path
    probe_audio: bool


def parse_options(root: Path, options: Mapping[str, object]) -> AudioCapsOptions:
    given = ReaderOptions(READER, options, ("splits", "audio_dir", "probe_audio"))
    return AudioCapsOptions(
        splits=given.splits(SPLITS),
        audio_dir=given.path(root, "audio_dir", "audio"),
        probe_audio=given.probe_audio,
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
    return youtube_stems(youtube_id, ["", f"_{start_time}", f"_{segment}"])


def find_audio(directories: ListedDirectories, youtube_id: str, start_time: str) -> Path | None:
    return find_audio_file(directories, audio_stems(youtube_id, start_time))


def _seed(corpus: str, split: str, row: AnnotationRow, directories: ListedDirectories) -> dict[str, object]:
    audiocap_id = row.cell("audiocap_id")
    youtube_id = row.cell("youtube_id")
    start_time = row.cell("start_time")
    caption = row.cell("caption")
    if parse_seconds(start_time) is None:
        raise row.error(f"start_time {start_time!r} is not a number of seconds")
    audio_path = downloaded_audio_path(directories, audio_stems(youtube_id, start_time))
    return caption_seed(
        seed_id=f"{corpus}/{audiocap_id}",
        clip_id=f"{corpus}/{audio_path.stem}",
        corpus=corpus,
        split=split,
        audio_path=audio_path,
        caption=caption,
        tags=[],
        source=row.source,
    )


def _split_seeds(corpus: str, root: Path, split: str, options: AudioCapsOptions) -> list[dict[str, object]]:
    rows = read_annotation_rows(split_file(root, split), REQUIRED_COLUMNS)
    directories = list_directories([options.audio_dir, options.audio_dir / split])
    return [_seed(corpus, split, row, directories) for row in rows]


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    root = Path(root)
    parsed = parse_options(root, options)
    seeds = [seed for split in parsed.splits for seed in _split_seeds(name, root, split, parsed)]
    return probe_seeds(seeds, probe=parsed.probe_audio)
