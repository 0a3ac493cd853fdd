"""ESC-50: ``meta/esc50.csv`` lists 5 s clips in ``audio/``, one category each, in 5 folds."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from balsa_core.readers.common import (
    SEED_COLUMNS,
    FoldReaderOptions,
    ReadResult,
    fold_number,
    fold_reader_options,
    probe_seeds,
    read_annotation_csv,
    readable_tag,
    required_cell,
    row_source,
    tags_seed,
)

READER = "esc50"
ANNOTATION_FILE = Path("meta") / "esc50.csv"
AUDIO_DIR = "audio"
# The real header also has target, esc10, src_file and take; nothing here needs them.
REQUIRED_COLUMNS = ("filename", "fold", "category")
FOLDS = range(1, 6)


def parse_options(options: Mapping[str, object]) -> FoldReaderOptions:
    return fold_reader_options(READER, options, FOLDS, default_test=(5,))


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    parse_options(options)
    return [Path(root) / ANNOTATION_FILE]


def _seed(
    corpus: str, root: Path, csv_path: Path, index: int, record: Mapping[str, str], options: FoldReaderOptions
) -> dict[str, object]:
    filename = required_cell(csv_path, index, record, "filename")
    fold = fold_number(csv_path, index, record, FOLDS)
    return tags_seed(
        clip_id=f"{corpus}/{Path(filename).stem}",
        corpus=corpus,
        split=options.splits.split_of(fold),
        audio_path=root / AUDIO_DIR / filename,
        tags=[readable_tag(required_cell(csv_path, index, record, "category"))],
        source=row_source(csv_path, index),
    )


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    parsed = parse_options(options)
    root = Path(root)
    csv_path = root / ANNOTATION_FILE
    table = read_annotation_csv(csv_path, REQUIRED_COLUMNS)
    seeds = pd.DataFrame(
        [_seed(name, root, csv_path, index, record, parsed) for index, record in enumerate(table.to_dict("records"))],
        columns=SEED_COLUMNS,
    )
    return probe_seeds(seeds, probe=parsed.probe_audio)
