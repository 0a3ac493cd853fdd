"""Baseline audio LLMs in the DAG: with ``evaluation.baselines`` set, each is asked every evaluation
of Tables IV and V (one evaluate_baseline job each) and feeds the tables, not grounding."""

from __future__ import annotations

from workflow_run import planned_jobs, tiny_config, write_config

from balsa_core.config import validate_config
from balsa_core.settings import PipelineConfig

BASELINES = {
    "qwen2_audio": {"base_url": "http://localhost:8000/v1", "model": "Qwen/Qwen2-Audio-7B-Instruct"},
    "salmonn_7b": {"base_url": "http://localhost:8001/v1", "model": "SALMONN-7B"},
}


def test_each_baseline_answers_every_evaluation_of_the_tables_and_not_grounding(tmp_path):
    config = tiny_config(tmp_path)
    without = PipelineConfig.from_validated(validate_config(config, base_dir=tmp_path))
    config["evaluation"]["baselines"] = BASELINES
    write_config(tmp_path, config)
    tables = planned_jobs(tmp_path)
    assert tables["evaluate_baseline"] == len(BASELINES) * len(without.evaluation.run)
    # The baselines add rows, nothing the pipeline's own models are asked.
    assert tables["evaluate_adapter"] == len(without.variants) * len(without.evaluation.run)
    assert "evaluate_baseline" not in planned_jobs(tmp_path, "results/grounding.csv")
