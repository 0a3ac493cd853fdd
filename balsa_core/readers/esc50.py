"""ESC-50: ``meta/esc50.csv`` lists 5 s clips in ``audio/``, one category each, in 5 folds."""

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

READER = "esc50"
ANNOTATION_FILE = Path("meta") / "esc50.csv"
AUDIO_DIR = "audio"
# The real header also has target, esc10, src_file and take; nothing here needs them.
REQUIRED_COLUMNS = ("filename", "fold", "category")


FOLDS = range(1, 6)


@dataclass(frozen=True)
class Esc50Options:
    splits: FoldSplits
    probe_audio: bool


def parse_options(options: Mapping[str, object]) -> Esc50Options:
    check_option_names(READER, options, ("test_folds", "val_folds", "probe_audio"))
    return Esc50Options(
        splits=fold_splits(READER, options, FOLDS, default_test=(5,)),
        probe_audio=bool_option(READER, options, "probe_audio", True),
    )


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    parse_options(options)
    return [Path(root) / ANNOTATION_FILE]


def _seed(
    corpus: str,
    root: Path,
    csv_path: Path,
    index: int,
    record: Mapping[str, str],
    options: Esc50Options,
) -> dict[str, object]:
    filename = required_cell(csv_path, index, record, "filename")
    fold_text = required_cell(csv_path, index, record, "fold")
    if not fold_text.isdigit():
        raise bad_row(csv_path, index, f"fold {fold_text!r} is not a whole number")
    tags = [readable_tag(required_cell(csv_path, index, record, "category"))]
    clip_id = f"{corpus}/{Path(filename).stem}"
    return {
        "seed_id": clip_id,
        "clip_id": clip_id,
        "corpus": corpus,
        "split": options.splits.split_of(int(fold_text)),
        "audio_path": str(root / AUDIO_DIR / filename),
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
