"""GPU placement on a workstation: each model job gets GPUs of its own.

Snakemake's ``--resources gpu=N`` caps how many GPUs the running jobs reserve together, but not
which ones they use: every job would see every GPU and start on the first. A job that reserves
GPUs therefore takes as many ids from a pool of lock files (one per GPU of the machine, under
``.snakemake/gpu_pool`` or ``$BALSA_GPU_POOL``), holds their ``flock`` while it runs and sees only
them through ``CUDA_VISIBLE_DEVICES``. The kernel drops a dead job's locks, so a crash leaks no
GPU. A job takes or gives back all its GPUs under one pool-wide lock, so a waiting job never sees
another's GPUs half given back and always takes the lowest free ids. Where a scheduler already
placed the job (SLURM sets ``CUDA_VISIBLE_DEVICES``), it is left as it is.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

DEFAULT_POOL = Path(".snakemake/gpu_pool")
POOL_VARIABLE = "BALSA_GPU_POOL"


def machine_gpu_ids() -> list[str]:
    """The indices of this machine's GPUs as ``nvidia-smi`` lists them (none without it); asked
    without importing torch, whose CUDA state must not start before the placement."""
    if shutil.which("nvidia-smi") is None:
        return []
    result = subprocess.run(
        ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True, check=False
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip()] if result.returncode == 0 else []


def pool_dir(environ: MutableMapping[str, str]) -> Path:
    """Where the pool's lock files live: ``$BALSA_GPU_POOL`` (one directory for all checkouts
    on the machine) or this workflow's ``.snakemake/gpu_pool``."""
    return Path(environ[POOL_VARIABLE]) if environ.get(POOL_VARIABLE) else DEFAULT_POOL


@contextmanager
def _pool_locked(pool: Path) -> Iterator[None]:
    """The pool to itself while a job takes or gives back its GPUs (held for microseconds)."""
    with (pool / "pool.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _lock_free_gpus(pool: Path, ids: list[str], count: int) -> dict[str, IO[str]] | None:
    """Locks on ``count`` free GPUs of ``ids``, or none at all: holding some while waiting for
    the rest could deadlock two jobs that each hold part of what the other needs."""
    held: dict[str, IO[str]] = {}
    with _pool_locked(pool):
        for gpu in ids:
            handle = (pool / f"gpu{gpu}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            held[gpu] = handle
            if len(held) == count:
                return held
        for handle in held.values():
            handle.close()
    return None


@contextmanager
def gpu_placement(
    count: int,
    environ: MutableMapping[str, str],
    gpu_ids: Callable[[], list[str]] | None = None,
    poll_seconds: float = 5.0,
) -> Iterator[list[str] | None]:
    """Hold ``count`` of the machine's GPUs (``gpu_ids``, by default ``machine_gpu_ids``) and
    show the job only them (``CUDA_VISIBLE_DEVICES`` in ``environ``) until the block ends;
    yields their ids, or ``None`` where nothing is placed: no GPU asked for, none on the
    machine, or a scheduler's placement already in ``environ``."""
    if count == 0 or "CUDA_VISIBLE_DEVICES" in environ:
        yield None
        return
    ids = (gpu_ids or machine_gpu_ids)()
    if not ids:
        yield None
        return
    if count > len(ids):
        raise ValueError(f"the job reserves {count} GPUs, but this machine has {len(ids)}")
    pool = pool_dir(environ)
    pool.mkdir(parents=True, exist_ok=True)
    while (held := _lock_free_gpus(pool, ids, count)) is None:
        # Another workflow on this machine holds them (Snakemake counts only its own jobs).
        log.info("waiting for %d free GPUs in %s", count, pool)
        time.sleep(poll_seconds)
    environ["CUDA_VISIBLE_DEVICES"] = ",".join(held)
    log.info("running on GPUs %s", environ["CUDA_VISIBLE_DEVICES"])
    try:
        yield list(held)
    finally:
        del environ["CUDA_VISIBLE_DEVICES"]
        with _pool_locked(pool):
            for handle in held.values():
                handle.close()
