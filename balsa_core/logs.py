"""Logging for stages: to stderr by hand, to the job's log file under Snakemake."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(threads: int | None = None) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=FORMAT, force=True)
    # Progress bars of weight loading would fill job logs with carriage returns; the
    # variable covers a later import of transformers, the call an earlier one.
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:
        sys.modules["transformers"].utils.logging.disable_progress_bar()
    if threads:
        import torch

        torch.set_num_threads(threads)


@contextmanager
def workflow_job(snakemake) -> Iterator[None]:
    """Run a Snakemake script job with stderr, warnings and tracebacks in its ``log:`` file."""
    log_path = Path(snakemake.log[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    console = sys.stderr
    with log_path.open("w", buffering=1) as log_file:
        sys.stderr = log_file
        setup_logging(threads=snakemake.threads)
        try:
            yield
        except Exception:
            logging.getLogger("balsa").exception("job failed")
            raise
        finally:
            sys.stderr = console
