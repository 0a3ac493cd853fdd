"""The one metadata schema every corpus reader produces, and its Parquet I/O.

A metadata row is one *seed*: a clip plus one caption (or its tag list) that the
backbone LLM will be shown in place of the audio. A captioned clip with five
captions gives five rows sharing a ``clip_id``; ``seed_id`` is unique.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SEED_KINDS = ("caption", "tags")
SPLITS = ("train", "val", "test")

METADATA_SCHEMA = pa.schema(
    [
        ("seed_id", pa.string()),
        ("clip_id", pa.string()),
        ("corpus", pa.string()),
        ("split", pa.string()),
        ("audio_path", pa.string()),
        # A clip may be a window of its file (long recordings are cut or split).
        ("offset_s", pa.float64()),
        ("duration_s", pa.float64()),
        ("sample_rate", pa.int32()),
        ("channels", pa.int32()),
        ("seed_kind", pa.string()),
        ("seed_text", pa.string()),
        ("tags", pa.list_(pa.string())),
    ]
)

REJECTS_SCHEMA = pa.schema(
    [
        ("corpus", pa.string()),
        ("audio_path", pa.string()),
        ("source", pa.string()),
        ("reason", pa.string()),
    ]
)


class MetadataError(ValueError):
    """A metadata table breaks the schema; the message names the table and the rows."""


def validate_metadata(frame: pd.DataFrame, where: str = "metadata") -> None:
    missing = [name for name in METADATA_SCHEMA.names if name not in frame.columns]
    if missing:
        raise MetadataError(f"{where}: missing column(s) {missing}")
    duplicated = frame["seed_id"][frame["seed_id"].duplicated()].unique().tolist()
    if duplicated:
        raise MetadataError(f"{where}: seed_id not unique: {duplicated[:5]}")
    bad_kind = sorted(set(frame["seed_kind"]) - set(SEED_KINDS))
    if bad_kind:
        raise MetadataError(f"{where}: unknown seed_kind {bad_kind}; expected one of {SEED_KINDS}")
    bad_split = sorted(set(frame["split"]) - set(SPLITS))
    if bad_split:
        raise MetadataError(f"{where}: unknown split {bad_split}; expected one of {SPLITS}")
    empty = frame.index[frame["seed_text"].fillna("").str.strip() == ""].tolist()
    if empty:
        raise MetadataError(f"{where}: empty seed_text in rows {empty[:5]}")


def metadata_table(frame: pd.DataFrame, where: str = "metadata") -> pa.Table:
    validate_metadata(frame, where)
    ordered = frame[METADATA_SCHEMA.names].reset_index(drop=True)
    ordered = ordered.assign(tags=ordered["tags"].map(list))
    return pa.Table.from_pandas(ordered, schema=METADATA_SCHEMA, preserve_index=False)


def write_metadata(frame: pd.DataFrame, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(metadata_table(frame, where=str(path)), path)


def read_metadata(path: Path) -> pd.DataFrame:
    frame = pq.read_table(path, schema=METADATA_SCHEMA).to_pandas()
    frame["tags"] = frame["tags"].map(list)
    return frame


def write_rejects(frame: pd.DataFrame, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.reindex(columns=REJECTS_SCHEMA.names).reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(frame, schema=REJECTS_SCHEMA, preserve_index=False), path)


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="string") for name in REJECTS_SCHEMA.names})
