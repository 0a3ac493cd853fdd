"""UrbanSound8K: ``metadata/UrbanSound8K.csv`` lists <= 4 s slices in ``audio/fold<n>/``, one class each.

The corpus comes in ten predefined folds; its authors ask that results be reported per fold,
never on reshuffled slices, since slices of one recording would leak across splits.
"""

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

READER = "urbansound8k"
ANNOTATION_FILE = Path("metadata") / "UrbanSound8K.csv"
AUDIO_DIR = "audio"
FOLDS = range(1, 11)
# The real header also has fsID, start, end, salience and classID; nothing here needs them.
REQUIRED_COLUMNS = ("slice_file_name", "fold", "class")


def parse_options(options: Mapping[str, object]) -> FoldReaderOptions:
    return fold_reader_options(READER, options, FOLDS, default_test=(10,))


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    parse_options(options)
    return [Path(root) / ANNOTATION_FILE]


def _seed(
    corpus: str, root: Path, csv_path: Path, index: int, record: Mapping[str, str], options: FoldReaderOptions
) -> dict[str, object]:
    slice_file_name = required_cell(csv_path, index, record, "slice_file_name")
    fold = fold_number(csv_path, index, record, FOLDS)
    return tags_seed(
        clip_id=f"{corpus}/{Path(slice_file_name).stem}",
        corpus=corpus,
        split=options.splits.split_of(fold),
        audio_path=root / AUDIO_DIR / f"fold{fold}" / slice_file_name,
        tags=[readable_tag(required_cell(csv_path, index, record, "class"))],
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
