"""What several test files share: writers of the small files tests build, and checks of a reader's result."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from balsa_core.metadata import METADATA_SCHEMA, REJECTS_SCHEMA, metadata_table, validate_metadata
from balsa_core.readers import ReadResult

SHARED_FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"
ESC50_HEADER = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
URBANSOUND8K_HEADER = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]

Test = TypeVar("Test", bound=Callable[..., object])


def uses_real_sample(path: Path) -> Callable[[Test], Test]:
    """Mark a test as one reading a real format sample (``-m shared``), skipped where ``path`` is absent."""

    def mark(test: Test) -> Test:
        skipped = pytest.mark.skipif(not path.exists(), reason=f"real format sample not found at {path}")
        return pytest.mark.shared(skipped(test))

    return mark


# --- files --------------------------------------------------------------------------------------


def write_wav(
    path: Path,
    seconds: float = 0.5,
    sample_rate: int = 16000,
    *,
    channels: int = 1,
    subtype: str = "PCM_16",
    samples: np.ndarray | None = None,
) -> Path:
    """A wav of ``samples``, or of ``seconds`` of silence in ``channels`` channels; folders are made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if samples is None:
        samples = np.zeros((int(seconds * sample_rate), channels), np.float32)
    sf.write(path, samples, sample_rate, subtype=subtype)
    return path


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_json(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1))
    return path


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def ontology_class(mid: str, name: str, child_ids: Sequence[str] = ()) -> dict[str, object]:
    """One class of an AudioSet ``ontology.json``."""
    return {"id": mid, "name": name, "child_ids": list(child_ids), "restrictions": []}


def esc50_row(filename: str, fold: int | str, category: str) -> list[object]:
    target = 0
    return [filename, fold, target, category, False, filename.split("-")[1], "A"]


def make_esc50(root: Path, rows: Sequence[Sequence[object]]) -> Path:
    write_csv(root / "meta" / "esc50.csv", ESC50_HEADER, rows)
    return root


def us8k_row(slice_file_name: str, fold: int | str, class_name: str) -> list[object]:
    fs_id = slice_file_name.split("-")[0]
    return [slice_file_name, fs_id, 0, 4, 1, fold, 0, class_name]


# --- reader results -----------------------------------------------------------------------------


def check_result_schema(result: ReadResult) -> None:
    assert list(result.rows.columns) == METADATA_SCHEMA.names
    assert list(result.rejects.columns) == REJECTS_SCHEMA.names
    validate_metadata(result.rows)
    metadata_table(result.rows)  # the rows convert to the Parquet schema


def reject(corpus: str, audio_path: Path, source: str, reason: str = "missing audio file") -> dict[str, str]:
    """One record of a rejects table, as ``result.rejects.to_dict("records")`` gives it."""
    return {"corpus": corpus, "audio_path": str(audio_path), "source": source, "reason": reason}


def clean_rows(result: ReadResult) -> pd.DataFrame:
    """The rows of a read that rejected nothing, once both tables' schemas are checked."""
    check_result_schema(result)
    assert result.rejects.empty
    return result.rows
