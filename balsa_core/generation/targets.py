"""The target table of one target set: requests, what answered them, and their quality flags.

``generate_target_set`` is the whole data stage of one set: requests, completions (from the
backend in resumable shards, or copied from the seed for ground-truth sets), quality flags,
the leak policy, then the table and its quality report, each written atomically.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from balsa_core.generation.backend import GenerationBackend, SamplingSettings
from balsa_core.generation.quality import leak_flags, mention_flags, quality_summary
from balsa_core.generation.shards import COMPLETION_FIELDS, atomic_write, generate_in_shards
from balsa_core.generation.target_sets import TargetSet

log = logging.getLogger(__name__)

TARGETS_SCHEMA = pa.schema(
    [
        ("target_id", pa.string()),
        ("source_id", pa.string()),  # the seed, or the pair, the target was written for
        ("clip_ids", pa.list_(pa.string())),
        ("seed_ids", pa.list_(pa.string())),
        ("corpus", pa.string()),
        ("split", pa.string()),
        ("target_set", pa.string()),
        ("source", pa.string()),
        ("sample_index", pa.int32()),
        ("instruction", pa.string()),  # what the adapter is trained to answer
        ("prompt", pa.string()),  # what the backbone was asked; null for ground truth
        *COMPLETION_FIELDS,
        ("empty", pa.bool_()),
        ("leak", pa.bool_()),  # names a sound the clip has; checked for absent-sound sets only
        ("model", pa.string()),
        ("backend", pa.string()),
        ("temperature", pa.float64()),
        ("top_p", pa.float64()),
        ("max_new_tokens", pa.int32()),
        ("seed", pa.int64()),
    ]
)


@dataclass(frozen=True)
class GenerationPlan:
    """How one target set is generated: the backend and sampling for backbone sets, the shard
    size, and whether leaking targets are kept."""

    settings: SamplingSettings | None  # None for ground-truth sets
    shard_size: int = 512
    leaking_targets: Literal["keep", "drop"] = "keep"


def generate_target_set(
    target_set: TargetSet,
    requests: pd.DataFrame,
    metadata: pd.DataFrame,
    backend: GenerationBackend | None,
    backend_name: str | None,
    plan: GenerationPlan,
    corpus: str,
    out_path: Path,
    quality_path: Path,
) -> pd.DataFrame:
    """Generate, check and write one target set; return the written table."""
    if target_set.uses_backend:
        if backend is None or plan.settings is None:
            raise ValueError(f"target set {target_set.name!r} needs a generation backend and sampling settings")
        completions = generate_in_shards(
            requests, backend, plan.settings, shard_directory(out_path), plan.shard_size
        ).set_index("target_id")
        provenance = {"model": backend.model_name, "backend": backend_name, **_sampling_columns(plan.settings)}
    else:
        completions = pd.DataFrame(
            {"target": list(requests["reference"]), "target_tokens": None, "finished": True, "seed": None},
            index=requests["target_id"],
        )
        provenance = {"model": None, "backend": None, "temperature": None, "top_p": None, "max_new_tokens": None}

    targets = requests.join(completions, on="target_id")
    targets["source"] = target_set.source
    for column, value in provenance.items():
        targets[column] = value
    targets["empty"] = targets["target"].fillna("").str.strip() == ""
    targets["leak"] = leak_flags(targets, metadata) if target_set.names_absent_sounds else False
    # Every other set's targets should describe their clips: how often they name what the clips hold.
    describes_clips = not target_set.names_absent_sounds
    if describes_clips:
        targets["mention"] = mention_flags(targets, metadata)

    report = {
        "target_set": target_set.name,
        "corpus": corpus,
        "source": target_set.source,
        **quality_summary(targets, leak_checked=target_set.names_absent_sounds, mention_checked=describes_clips),
        "leaking_targets": plan.leaking_targets,
    }
    kept = targets[~targets["leak"]] if plan.leaking_targets == "drop" else targets
    report["dropped"] = len(targets) - len(kept)
    write_targets(kept, out_path)
    atomic_write(quality_path, lambda temporary: temporary.write_text(json.dumps(report, indent=2) + "\n"))
    log.info("%s: %s", target_set.name, report)
    return kept[TARGETS_SCHEMA.names].reset_index(drop=True)


def shard_directory(out_path: Path) -> Path:
    """Shards live beside the declared output (``negative.parquet`` -> ``negative.shards/``)."""
    return out_path.with_name(out_path.stem + ".shards")


def _sampling_columns(settings: SamplingSettings) -> dict[str, Any]:
    return {"temperature": settings.temperature, "top_p": settings.top_p, "max_new_tokens": settings.max_new_tokens}


def write_targets(targets: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(targets[TARGETS_SCHEMA.names], schema=TARGETS_SCHEMA, preserve_index=False)
    atomic_write(path, lambda temporary: pq.write_table(table, temporary))


def read_targets(path: Path | str) -> pd.DataFrame:
    return pq.read_table(path, schema=TARGETS_SCHEMA).to_pandas()
