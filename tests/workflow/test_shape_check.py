"""Settings only the backbones' shapes can check stop the workflow right after prepare_model:
every generation, feature, training and evaluation job waits for check_shapes."""

from __future__ import annotations

import os
from contextlib import chdir

import pytest
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ResourceSettings
from workflow_run import REPO, snakemake, tiny_config, write_config

MODEL_JOBS = {
    "generate_targets",
    "generate_pair_targets",
    "cache_features",
    "evaluation_features",
    "train_adapter",
    "untrained_adapter",
    "evaluate_adapter",
    "evaluate_text_ceiling",
}


def test_every_model_job_takes_the_shape_check_as_input():
    with pytest.MonkeyPatch.context() as patch, chdir(REPO), SnakemakeApi() as api:
        patch.setattr(os, "environ", os.environ.copy())
        workflow = api.workflow(resource_settings=ResourceSettings(), snakefile=REPO / "Snakefile")._workflow
        rules = {rule.name: rule for rule in workflow.rules}
    assert rules["check_shapes"].output._names.keys() == {"shapes"}
    for name in MODEL_JOBS:
        assert "shapes" in rules[name].input._names, name
        assert "shapes" not in rules[name].output._names, name


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["features"].update(layers=[1, 2, 3]), "features.layers: [1, 2, 3] names [3]"),
        (lambda c: c["adapter"].update(num_heads=7), "adapter.num_heads: 7 does not divide the encoder width 32"),
    ],
    ids=["encoder-layers", "adapter-heads"],
)
def test_a_bad_shape_setting_stops_after_prepare_model(tmp_path, tiny_llm_dir, tiny_whisper_dir, edit, message):
    config = tiny_config(tmp_path)
    config["models"] = {"llm": str(tiny_llm_dir), "encoder": str(tiny_whisper_dir)}
    edit(config)
    write_config(tmp_path, config)
    result = snakemake(tmp_path, "--cores", "1", "models/shapes.json")
    assert result.returncode != 0
    assert message in (tmp_path / "logs/models/shapes.log").read_text()
    assert not (tmp_path / "models/shapes.json").exists()
