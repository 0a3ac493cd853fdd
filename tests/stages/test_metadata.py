"""The metadata stages on a small demo corpus: each corpus's table, Table III's summary and the
multi-audio pairs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from balsa_core.metadata import read_metadata
from balsa_core.stages.metadata import data_summary, multi_audio_pairs


def test_each_corpus_becomes_its_metadata_with_its_name_in_every_id(demo_metadata) -> None:
    config, tables = demo_metadata
    for corpus, table in zip(config.corpora, tables):
        rows = read_metadata(table)
        assert len(rows) and rows["clip_id"].str.startswith(f"{corpus}/").all()
        assert set(rows["split"]) <= {"train", "val", "test"} and "test" in set(rows["split"])
        assert pd.read_parquet(table.with_suffix(".rejects.parquet")).empty


def test_the_summary_counts_one_variants_targets_per_training_seed(tmp_path: Path, demo_metadata) -> None:
    config, tables = demo_metadata
    data_summary(config, tables, None, tmp_path / "summary.csv")
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("corpus")
    assert list(summary.index) == [*sorted(config.corpora), "Total"]
    # The demo's variants train on at most 2 targets per seed (the papers' 2N); none on pairs.
    assert config.samples_per_training_seed == 2 and config.samples_per_training_pair == 0
    assert (summary["training_samples"] == summary["seeds"] * config.samples_per_training_seed).all()
    assert (summary["multi_audio_samples"] == 0).all()


def test_pairs_join_two_training_clips_of_one_corpus(tmp_path: Path, demo_metadata) -> None:
    config, tables = demo_metadata
    multi_audio_pairs(config, tables, tmp_path / "pairs.parquet")
    pairs = pd.read_parquet(tmp_path / "pairs.parquet")
    train = pd.concat([read_metadata(table) for table in tables]).query("split == 'train'")
    assert len(pairs) and (pairs["first_clip_id"] != pairs["second_clip_id"]).all()
    assert set(pairs["first_clip_id"]) | set(pairs["second_clip_id"]) <= set(train["clip_id"])
    assert config.pairs.scope == "within" and (pairs["first_corpus"] == pairs["second_corpus"]).all()
