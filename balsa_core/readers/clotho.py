"""Clotho v2: ``clotho_captions_<subset>.csv`` gives five captions for each clip in ``<subset>/``.

The subsets development, validation and evaluation are the train, val and test splits.
File names are Freesound titles: they hold spaces and sometimes commas, so they come csv-quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from balsa_core.metadata import SPLITS
from balsa_core.readers.common import (
    SEED_COLUMNS,
    ReadResult,
    bool_option,
    check_option_names,
    probe_seeds,
    read_annotation_csv,
    required_cell,
    row_source,
    splits_option,
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
    check_option_names(READER, options, ("splits", "captions", "probe_audio"))
    splits = splits_option(READER, options, SPLITS)
    captions = options.get("captions", "all")
    if captions not in CAPTION_CHOICES:
        raise ValueError(f"reader {READER!r}: option 'captions' must be one of {CAPTION_CHOICES}, got {captions!r}")
    return ClothoOptions(
        splits=splits,
        first_caption_only=captions == "first",
        probe_audio=bool_option(READER, options, "probe_audio", True),
    )


def captions_file(root: Path, split: str) -> Path:
    return Path(root) / f"clotho_captions_{SUBSET_OF_SPLIT[split]}.csv"


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    return [captions_file(root, split) for split in parse_options(options).splits]


def _clip_seeds(
    corpus: str,
    root: Path,
    split: str,
    csv_path: Path,
    index: int,
    record: Mapping[str, str],
    caption_columns: tuple[str, ...],
) -> list[dict[str, object]]:
    file_name = required_cell(csv_path, index, record, "file_name")
    clip_id = f"{corpus}/{Path(file_name).stem}"
    audio_path = str(root / SUBSET_OF_SPLIT[split] / file_name)
    # Seed ids carry the caption's column number, so "first" and "all" name the same caption alike.
    return [
        {
            "seed_id": f"{clip_id}#{number}",
            "clip_id": clip_id,
            "corpus": corpus,
            "split": split,
            "audio_path": audio_path,
            "seed_kind": "caption",
            "seed_text": required_cell(csv_path, index, record, column),
            "tags": [],
            "source": row_source(csv_path, index),
        }
        for number, column in enumerate(caption_columns, start=1)
    ]


def _split_seeds(corpus: str, root: Path, split: str, options: ClothoOptions) -> list[dict[str, object]]:
    csv_path = captions_file(root, split)
    table = read_annotation_csv(csv_path, REQUIRED_COLUMNS)
    caption_columns = CAPTION_COLUMNS[:1] if options.first_caption_only else CAPTION_COLUMNS
    return [
        seed
        for index, record in enumerate(table.to_dict("records"))
        for seed in _clip_seeds(corpus, root, split, csv_path, index, record, caption_columns)
    ]


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    parsed = parse_options(options)
    root = Path(root)
    seeds = pd.DataFrame(
        [seed for split in parsed.splits for seed in _split_seeds(name, root, split, parsed)],
        columns=SEED_COLUMNS,
    )
    return probe_seeds(seeds, probe=parsed.probe_audio)
