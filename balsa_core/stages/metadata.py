"""rules/metadata.smk: each corpus as the common metadata table, Table III's data summary, and the
multi-audio pairs of training clips."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from balsa_core.hygiene import apply_hygiene
from balsa_core.metadata import read_metadata, write_metadata, write_rejects
from balsa_core.pairs import make_pairs
from balsa_core.readers import read_corpus
from balsa_core.settings import PipelineConfig
from balsa_core.summary import data_summary as summarize

log = logging.getLogger(__name__)


def metadata(config: PipelineConfig, corpus: str, metadata: Path, rejects: Path) -> None:
    """Read one corpus with its reader, check its audio, and write its rows and rejected files."""
    entry = config.corpora[corpus]
    result = read_corpus(corpus, entry.reader, Path(entry.root), entry.options)
    result, report = apply_hygiene(result, config.audio_hygiene)
    write_metadata(result.rows, metadata)
    write_rejects(result.rejects, rejects)
    log.info(
        "%s: %d seeds from %d clips; %d files rejected (%d silent); %d recordings over the clip limit became %d clips",
        corpus, len(result.rows), result.rows["clip_id"].nunique(), len(result.rejects), report.silent,
        report.long_clips, report.windows,
    )  # fmt: skip
    for reject in result.rejects.itertuples():
        log.warning("%s: rejected %s (%s): %s", corpus, reject.audio_path, reject.source, reject.reason)


def data_summary(config: PipelineConfig, metadata: Sequence[Path], pairs: Path | None, summary: Path) -> None:
    """Table III of the journal: audio hours, equivalent hours and training samples per corpus,
    single-audio and multi-audio (``pairs``: when a variant trains on two-audio sets)."""
    table = summarize(
        _read_all(metadata),
        config.samples_per_training_seed,
        pd.read_parquet(pairs) if pairs else None,
        config.samples_per_training_pair,
    )
    summary.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(summary, index=False)
    log.info("data summary:\n%s", table.to_string(index=False))


def multi_audio_pairs(config: PipelineConfig, metadata: Sequence[Path], pairs: Path) -> None:
    """Pairs of training clips for the two-audio target sets (BALSa-MA)."""
    frame = _read_all(metadata)
    table = make_pairs(frame, config.pairs)
    pairs.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(pairs, index=False)
    log.info(
        "%d multi-audio pairs from %d training clips",
        len(table),
        frame.loc[frame["split"] == "train", "clip_id"].nunique(),
    )


def _read_all(metadata_paths: Sequence[Path]) -> pd.DataFrame:
    return pd.concat([read_metadata(path) for path in metadata_paths], ignore_index=True)
