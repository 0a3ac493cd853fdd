"""Generation in deterministic, atomically written shards: a killed job resumes where it stopped.

The sorted requests are cut into consecutive shards of ``shard_size``. Each shard's file name
carries a fingerprint of everything its completions depend on (the backend's identity, the
sampling settings, the shard's seed, its target ids and prompts), so a finished shard is
reused exactly when rerunning would ask the same questions, and a changed prompt or model is
never served stale. A shard is written to a temporary name and renamed into place, so a file
with a shard's name is always complete.

The shard directory sits beside the job's declared outputs, not among them: Snakemake deletes
the declared outputs of a failed job, and the finished shards must survive that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from balsa_core.generation.backend import Completion, GenerationBackend, GenerationError, SamplingSettings

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
# What a backend returns for one request; the target tables take these columns from the shards.
COMPLETION_FIELDS = [("target", pa.string()), ("target_tokens", pa.int32()), ("finished", pa.bool_())]
SHARD_SCHEMA = pa.schema([("target_id", pa.string()), *COMPLETION_FIELDS, ("seed", pa.int64())])


@dataclass(frozen=True)
class Shard:
    index: int
    start: int  # position of its first request among all requests
    target_ids: tuple[str, ...]
    prompts: tuple[str, ...]
    settings: SamplingSettings  # its seed is the job seed plus ``start``
    fingerprint: str

    @property
    def file_name(self) -> str:
        return f"shard-{self.index:05d}-{self.fingerprint[:16]}.parquet"


def plan_shards(
    requests: pd.DataFrame, shard_size: int, settings: SamplingSettings, backend_identity: dict[str, Any]
) -> list[Shard]:
    """Cut requests (``target_id``, ``prompt``, in their given order) into shards.

    Message i of the whole job is sampled with seed ``settings.seed + i`` wherever the backend
    seeds per message, so the targets do not depend on the shard size either.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    shards = []
    for index, start in enumerate(range(0, len(requests), shard_size)):
        chunk = requests.iloc[start : start + shard_size]
        shard_settings = replace(settings, seed=settings.seed + start)
        target_ids, prompts = tuple(chunk["target_id"]), tuple(chunk["prompt"])
        payload = json.dumps(
            [backend_identity, asdict(shard_settings), target_ids, prompts], sort_keys=True, ensure_ascii=False
        )
        fingerprint = hashlib.sha256(payload.encode()).hexdigest()
        shards.append(Shard(index, start, target_ids, prompts, shard_settings, fingerprint))
    return shards


def generate_in_shards(
    requests: pd.DataFrame,
    backend: GenerationBackend,
    settings: SamplingSettings,
    shard_dir: Path,
    shard_size: int,
    on_shard_done: Callable[[Shard, bool], None] | None = None,
) -> pd.DataFrame:
    """Completions for every request: ``target_id, target, target_tokens, finished, seed``.

    Finished shards in ``shard_dir`` are reused; only the missing ones are generated.
    ``on_shard_done(shard, reused)`` is called after each shard (progress, tests).
    """
    shard_dir.mkdir(parents=True, exist_ok=True)
    _remove_partial_writes(shard_dir)
    shards = plan_shards(requests, shard_size, settings, backend.identity)
    manifest = _Manifest(shard_dir, shards)
    finished = [shard for shard in shards if _is_complete(shard_dir / shard.file_name, shard)]
    manifest.mark(finished)
    log.info(
        "%d requests in %d shards of up to %d: %d already finished, %d to generate",
        len(requests),
        len(shards),
        shard_size,
        len(finished),
        len(shards) - len(finished),
    )
    done_ids = {shard.index for shard in finished}
    started, generated_rows = time.perf_counter(), 0
    for shard in shards:
        reused = shard.index in done_ids
        if not reused:
            completions = _generate_shard(shard, shards, backend, shard_dir)
            _write_shard(shard, completions, shard_dir / shard.file_name)
            manifest.mark([shard])
            generated_rows += len(shard.target_ids)
            rate = generated_rows / (time.perf_counter() - started)
            log.info(
                "shard %d/%d written (%d/%d requests done, %.2f requests/s)",
                shard.index + 1,
                len(shards),
                manifest.rows_done,
                len(requests),
                rate,
            )
        if on_shard_done is not None:
            on_shard_done(shard, reused)
    _remove_stale_shards(shard_dir, shards)
    if not shards:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in SHARD_SCHEMA.names})
    return pd.concat([_read_shard(shard_dir / shard.file_name) for shard in shards], ignore_index=True)


def _generate_shard(
    shard: Shard, shards: Sequence[Shard], backend: GenerationBackend, shard_dir: Path
) -> list[Completion]:
    try:
        completions = backend.generate(list(shard.prompts), shard.settings)
    except Exception as error:
        where = shard_dir / shard.file_name
        raise GenerationError(f"shard {shard.index + 1}/{len(shards)} ({where}) failed: {error}") from error
    if len(completions) != len(shard.prompts):
        raise GenerationError(
            f"shard {shard.index + 1}/{len(shards)}: the backend returned {len(completions)} completions "
            f"for {len(shard.prompts)} prompts"
        )
    return completions


def _write_shard(shard: Shard, completions: Sequence[Completion], path: Path) -> None:
    table = pa.table(
        {
            "target_id": list(shard.target_ids),
            "target": [c.text for c in completions],
            "target_tokens": [c.num_tokens for c in completions],
            "finished": [c.finished for c in completions],
            "seed": [shard.settings.seed + i for i in range(len(completions))],
        },
        schema=SHARD_SCHEMA,
    )
    atomic_write(path, lambda temporary: pq.write_table(table, temporary))


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` to a temporary file beside ``path``, flush it to disk, then rename it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _is_complete(path: Path, shard: Shard) -> bool:
    if not path.is_file():
        return False
    try:
        target_ids = pq.read_table(path, columns=["target_id"]).column("target_id").to_pylist()
    except (OSError, pa.ArrowException) as error:
        log.warning("regenerating unreadable shard %s: %s", path, error)
        return False
    if tuple(target_ids) != shard.target_ids:
        log.warning("regenerating shard %s: its rows differ from the plan", path)
        return False
    return True


def _read_shard(path: Path) -> pd.DataFrame:
    return pq.read_table(path, schema=SHARD_SCHEMA).to_pandas()


def _remove_partial_writes(shard_dir: Path) -> None:
    for partial in shard_dir.glob(".*.partial"):
        log.info("removing a partial write of a killed job: %s", partial.name)
        partial.unlink()


def _remove_stale_shards(shard_dir: Path, shards: Sequence[Shard]) -> None:
    current = {shard.file_name for shard in shards}
    stale = [path for path in shard_dir.glob("shard-*.parquet") if path.name not in current]
    for path in stale:
        path.unlink()
    if stale:
        log.info("removed %d shards of earlier settings", len(stale))


class _Manifest:
    """``manifest.json``: every shard with its file, row count and whether it is finished;
    rewritten atomically after each shard, so it always describes the files on disk."""

    def __init__(self, shard_dir: Path, shards: Sequence[Shard]) -> None:
        self.path = shard_dir / MANIFEST
        self.shards = shards
        self.done: set[int] = set()

    @property
    def rows_done(self) -> int:
        return sum(len(shard.target_ids) for shard in self.shards if shard.index in self.done)

    def mark(self, finished: Sequence[Shard]) -> None:
        self.done.update(shard.index for shard in finished)
        document = {
            "shards": [
                {
                    "index": shard.index,
                    "file": shard.file_name,
                    "rows": len(shard.target_ids),
                    "fingerprint": shard.fingerprint,
                    "finished": shard.index in self.done,
                }
                for shard in self.shards
            ],
            "rows": sum(len(shard.target_ids) for shard in self.shards),
            "rows_finished": self.rows_done,
        }
        atomic_write(self.path, lambda temporary: temporary.write_text(json.dumps(document, indent=1) + "\n"))
