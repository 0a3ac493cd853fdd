"""Clotho v2: ``clotho_captions_<subset>.csv`` gives five captions for each clip in ``<subset>/``.

The subsets development, validation and evaluation are the train, val and test splits.
File names are Freesound titles: they hold spaces and sometimes commas, so they come csv-quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balsa_core.metadata import SPLITS
from balsa_core.readers.common import (
    AnnotationRow,
    ReaderOptions,
    ReadResult,
    caption_seed,
    probe_seeds,
    read_annotation_rows,
)

READER = "clotho"
SUBSET_OF_SPLIT = {"train": "development", "val": "validation", "test": "evaluation"}
CAPTION_COLUMNS = tuple(f"caption_{number}" for number in range(1, 6))
REQUIRED_COLUMNS = ("file_name", *CAPTION_COLUMNS)
CAPTION_CHOICES = ("all", "first")


@dataclass(frozen=True)
class ClothoOptions:
    splits: tuple[str, ...]
    first_caption_only: bool
    probe_audio: bool


def parse_options(options: Mapping[str, object]) -> ClothoOptions:
    given = ReaderOptions(READER, options, ("splits", "captions", "probe_audio"))
    splits = given.splits(SPLITS)
    return ClothoOptions(
        splits=splits,
        first_caption_only=given.choice("captions", CAPTION_CHOICES, "all") == "first",
        probe_audio=given.probe_audio,
    )


def captions_file(root: Path, split: str) -> Path:
    return Path(root) / f"clotho_captions_{SUBSET_OF_SPLIT[split]}.csv"


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    return [captions_file(root, split) for split in parse_options(options).splits]


def _clip_seeds(
    corpus: str, root: Path, split: str, row: AnnotationRow, caption_columns: tuple[str, ...]
) -> list[dict[str, object]]:
    file_name = row.cell("file_name")
    clip_id = f"{corpus}/{Path(file_name).stem}"
    audio_path = root / SUBSET_OF_SPLIT[split] / file_name
    # Seed ids carry the caption's column number, so "first" and "all" name the same caption alike.
    return [
        caption_seed(
            seed_id=f"{clip_id}#{number}",
            clip_id=clip_id,
            corpus=corpus,
            split=split,
            audio_path=audio_path,
            caption=row.cell(column),
            tags=[],
            source=row.source,
        )
        for number, column in enumerate(caption_columns, start=1)
    ]


def _split_seeds(corpus: str, root: Path, split: str, options: ClothoOptions) -> list[dict[str, object]]:
    rows = read_annotation_rows(captions_file(root, split), REQUIRED_COLUMNS)
    caption_columns = CAPTION_COLUMNS[:1] if options.first_caption_only else CAPTION_COLUMNS
    return [seed for row in rows for seed in _clip_seeds(corpus, root, split, row, caption_columns)]


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    parsed = parse_options(options)
    root = Path(root)
    seeds = [seed for split in parsed.splits for seed in _split_seeds(name, root, split, parsed)]
    return probe_seeds(seeds, probe=parsed.probe_audio)
