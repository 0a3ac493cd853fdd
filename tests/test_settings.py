"""The typed view of the validated config: built once, with the schema's defaults and the
settings derived from several keys, read by every stage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from balsa_core.config import target_set_entry, validate_config, variant_training
from balsa_core.settings import Benchmark, PipelineConfig, SynonymHypernymBenchmark

REPO = Path(__file__).resolve().parents[1]


def typed(edit=None) -> tuple[PipelineConfig, dict]:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    if edit is not None:
        edit(config)
    validated = validate_config(config, base_dir=REPO)
    return PipelineConfig.from_validated(validated), validated


def test_keys_the_config_leaves_out_have_the_schemas_defaults():
    def leave_out(config):
        del config["features"]["shard_size"], config["generation"]["shard_size"], config["training"]["seed"]

    pipeline, _ = typed(leave_out)
    assert (pipeline.features.shard_size, pipeline.generation.shard_size, pipeline.training.seed) == (256, 512, 0)
    assert pipeline.features.window == "clip" and pipeline.features.trim is True
    assert pipeline.training.distributed.processes == 1 and pipeline.training.distributed.rdzv_endpoint is None
    assert pipeline.evaluation.instruction_following.kinds is None


def test_derived_settings_come_from_the_helpers_that_give_the_rules_params():
    pipeline, validated = typed()
    for name, target_set in pipeline.targets.items():
        assert dataclasses.asdict(target_set) == {
            "prompt": None,
            "questions": None,
            "backend": None,
            "templates": None,
            **target_set_entry(validated, name),
        }
    # rule_based trains ten times the shared epochs ...
    assert pipeline.variants["rule_based"].training.epochs == 20 != pipeline.training.epochs
    # ... at ten times the papers' learning rate, which the other variants keep.
    assert pipeline.variants["rule_based"].training.learning_rate == 1.0e-3
    assert pipeline.variants["positive_only"].training.learning_rate == 1.0e-4 == pipeline.training.learning_rate
    for name, variant in pipeline.variants.items():
        expected = variant_training(validated, name)
        expected["distributed"] = {"rdzv_endpoint": None, **expected["distributed"]}
        assert dataclasses.asdict(variant.training) == expected
    assert pipeline.variants["positive_negative"].mix == {"positive": 1, "negative": 1}
    assert (pipeline.samples_per_training_seed, pipeline.samples_per_training_pair) == (2, 0)
    assert dataclasses.asdict(pipeline.prompts) == {
        "begin_audio": "[Begin of audio]",
        "end_audio": "[End of audio]",
        "system_message": None,
    }


def test_models_of_the_tables_and_the_grounding_table():
    pipeline, _ = typed()
    variants = ["positive_negative", "positive_only", "rule_based"]
    assert pipeline.evaluated_models == [*variants, "text_ceiling"]
    assert pipeline.grounding_models == ["untrained", *variants, "text_ceiling"]
    assert pipeline.wildcard_values()["variant"] == [*variants, "untrained"]
    assert pipeline.wildcard_values()["evaluation"] == [*pipeline.evaluation.run, "grounding"]
    without, _ = typed(lambda config: config["evaluation"].update(text_ceiling=False))
    assert without.text_model is None and without.evaluated_models == variants


def test_benchmarks_are_typed_by_their_kind_and_the_view_is_frozen():
    pipeline, _ = typed()
    benchmarks = pipeline.evaluation.benchmarks
    assert isinstance(benchmarks["synonym_hypernym"], SynonymHypernymBenchmark)
    assert benchmarks["synonym_hypernym"].max_items == 60 and benchmarks["synonym_hypernym"].seed == 0
    assert isinstance(benchmarks["mmau"], Benchmark) and benchmarks["mmau"].options == {}
    assert benchmarks["mmau"].max_items is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        pipeline.features.window = "full"
