"""Stages that read and write tables only: no torch, so their jobs start in a second.

The Snakemake workflow scripts and the ``balsa`` command line both call these.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from balsa_core.demo.benchmarks import write_demo_benchmarks
from balsa_core.demo.corpus import DemoCorpusConfig, generate_demo_corpus
from balsa_core.hygiene import HygieneSettings, apply_hygiene
from balsa_core.metadata import read_metadata, write_metadata, write_rejects
from balsa_core.pairs import PairingConfig, make_pairs
from balsa_core.readers import read_corpus
from balsa_core.reports import generation_quality_table
from balsa_core.summary import data_summary

log = logging.getLogger(__name__)


def demo_corpus(settings: Mapping[str, Any], out_dir: Path) -> None:
    summary = generate_demo_corpus(DemoCorpusConfig(**settings), out_dir)
    log.info("demo corpus: %s", summary)


def demo_benchmarks(demo_dir: Path, out_dir: Path, seed: int) -> None:
    written = write_demo_benchmarks(demo_dir, out_dir, seed)
    for benchmark, paths in written.items():
        log.info("demo benchmark %s: %s", benchmark, ", ".join(str(path) for path in paths))


def metadata(
    name: str, corpus: Mapping[str, Any], hygiene: Mapping[str, Any], out_path: Path, rejects_path: Path
) -> None:
    result = read_corpus(name, corpus["reader"], Path(corpus["root"]), corpus.get("options", {}))
    result, report = apply_hygiene(result, HygieneSettings(**hygiene))
    write_metadata(result.rows, out_path)
    write_rejects(result.rejects, rejects_path)
    log.info(
        "%s: %d seeds from %d clips; %d files rejected (%d silent); %d recordings over the clip limit became %d clips",
        name, len(result.rows), result.rows["clip_id"].nunique(), len(result.rejects), report.silent,
        report.long_clips, report.windows,
    )  # fmt: skip
    for reject in result.rejects.itertuples():
        log.warning("%s: rejected %s (%s): %s", name, reject.audio_path, reject.source, reject.reason)


def summarize_data(metadata_paths: Sequence[Path], samples_per_seed: Mapping[str, int], out_csv: Path) -> None:
    """Table III of the papers: audio hours, clips and training samples per corpus."""
    frame = pd.concat([read_metadata(path) for path in metadata_paths], ignore_index=True)
    summary = data_summary(frame, samples_per_seed)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out_csv, index=False)
    log.info("data summary:\n%s", summary.to_string(index=False))


def generation_quality(report_paths: Sequence[Path], out_csv: Path) -> None:
    """results/generation_quality.csv: empty, cut-off and leaking targets of every target set."""
    table = generation_quality_table([json.loads(path.read_text()) for path in report_paths])
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    log.info("generation quality:\n%s", table.to_string(index=False))


def pair_clips(metadata_paths: Sequence[Path], settings: Mapping[str, Any], out_path: Path) -> None:
    frame = pd.concat([read_metadata(path) for path in metadata_paths], ignore_index=True)
    pairs = make_pairs(frame, PairingConfig(**settings))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    pairs.to_parquet(out_path, index=False)
    log.info(
        "%d multi-audio pairs from %d training clips",
        len(pairs),
        frame.loc[frame["split"] == "train", "clip_id"].nunique(),
    )
