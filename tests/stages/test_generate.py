"""The generation stages without a model: a ground-truth set (the rule-based template baseline)
and the quality table of its report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from balsa_core.generation import read_targets
from balsa_core.metadata import read_metadata
from balsa_core.stages.generate import generate_targets, generation_quality


def test_a_ground_truth_set_copies_each_training_seed_and_reports_its_quality(tmp_path: Path, demo_metadata) -> None:
    config, tables = demo_metadata
    targets, quality = tmp_path / "rule_based.parquet", tmp_path / "rule_based.quality.json"
    generate_targets(config, "rule_based", tables[:1], None, None, targets, quality)
    generated = read_targets(targets)
    seeds = read_metadata(tables[0]).query("split in @config.generation.splits")
    assert sorted(generated["target"]) == sorted(seeds["seed_text"])
    assert (generated["instruction"] == config.targets["rule_based"].prompt).all()

    generation_quality(config, [quality], tmp_path / "quality.csv")
    table = pd.read_csv(tmp_path / "quality.csv")
    assert len(table) == 1 and table.loc[0, "target_set"] == "rule_based"
