"""UrbanSound8K: ``metadata/UrbanSound8K.csv`` lists <= 4 s slices in ``audio/fold<n>/``, one class each.

The corpus comes in ten predefined folds; its authors ask that results be reported per fold,
never on reshuffled slices, since slices of one recording would leak across splits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from balsa_core.readers.common import (
    SEED_COLUMNS,
    FoldSplits,
    ReadResult,
    bad_row,
    bool_option,
    check_option_names,
    fold_splits,
    probe_seeds,
    read_annotation_csv,
    readable_tag,
    required_cell,
    row_source,
)

READER = "urbansound8k"
ANNOTATION_FILE = Path("metadata") / "UrbanSound8K.csv"
AUDIO_DIR = "audio"
FOLDS = range(1, 11)
# The real header also has fsID, start, end, salience and classID; nothing here needs them.
REQUIRED_COLUMNS = ("slice_file_name", "fold", "class")


@dataclass(frozen=True)
class UrbanSound8kOptions:
    splits: FoldSplits
    probe_audio: bool


def parse_options(options: Mapping[str, object]) -> UrbanSound8kOptions:
    check_option_names(READER, options, ("test_folds", "val_folds", "probe_audio"))
    return UrbanSound8kOptions(
        splits=fold_splits(READER, options, FOLDS, default_test=(10,)),
        probe_audio=bool_option(READER, options, "probe_audio", True),
    )


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    parse_options(options)
    return [Path(root) / ANNOTATION_FILE]


def _fold(csv_path: Path, index: int, record: Mapping[str, str]) -> int:
    fold_text = required_cell(csv_path, index, record, "fold")
    if not fold_text.isdecimal() or int(fold_text) not in FOLDS:
        raise bad_row(csv_path, index, f"fold {fold_text!r} is not a whole number from 1 to 10")
    return int(fold_text)


def _seed(
    corpus: str,
    root: Path,
    csv_path: Path,
    index: int,
    record: Mapping[str, str],
    options: UrbanSound8kOptions,
) -> dict[str, object]:
    slice_file_name = required_cell(csv_path, index, record, "slice_file_name")
    fold = _fold(csv_path, index, record)
    tags = [readable_tag(required_cell(csv_path, index, record, "class"))]
    clip_id = f"{corpus}/{Path(slice_file_name).stem}"
    return {
        "seed_id": clip_id,
        "clip_id": clip_id,
        "corpus": corpus,
        "split": options.splits.split_of(fold),
        "audio_path": str(root / AUDIO_DIR / f"fold{fold}" / slice_file_name),
        "seed_kind": "tags",
        "seed_text": ", ".join(tags),
        "tags": tags,
        "source": row_source(csv_path, index),
    }


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
