"""How a rule's script calls its stage (``balsa_core.workflow.run_stage``): the typed config, the
rule's wildcards and named files as paths, by the stage's parameter names, in the rule's log."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from snakemake.iocontainers import Namedlist

from balsa_core import gpus
from balsa_core.config import validate_config
from balsa_core.settings import PipelineConfig
from balsa_core.stages import stage_parameters
from balsa_core.workflow import run_stage

REPO = Path(__file__).resolve().parents[2]
called: dict = {}


def example_stage(
    config: PipelineConfig, corpus: str, metadata: Sequence[Path], llm: Path | None, init_from: Path | None, out: Path
) -> None:
    called.update(config=config, corpus=corpus, metadata=metadata, llm=llm, init_from=init_from, out=out)


def failing_stage(config: PipelineConfig, out: Path) -> None:
    raise RuntimeError(f"cannot write {out}")


def job(tmp_path: Path) -> SimpleNamespace:
    """What Snakemake hands a script: its config, named inputs and outputs, wildcards, log, threads."""
    config = validate_config(yaml.safe_load((REPO / "config.yaml").read_text()), base_dir=REPO)
    return SimpleNamespace(
        config=config,
        input=Namedlist(fromdict={"metadata": ["a.parquet", "b.parquet"], "llm": ["llm.json"], "init_from": []}),
        output=Namedlist(fromdict={"out": "out.parquet", "unused": "other.parquet"}),
        wildcards=Namedlist(fromdict={"corpus": "demo_tags", "target_set": "positive"}),
        log=[str(tmp_path / "logs" / "job.log")],
        threads=1,
    )


def test_the_stage_gets_the_typed_config_and_its_files_by_name(tmp_path):
    run_stage(job(tmp_path), example_stage)
    assert isinstance(called.pop("config"), PipelineConfig)
    assert called == {
        "corpus": "demo_tags",
        "metadata": [Path("a.parquet"), Path("b.parquet")],
        "llm": Path("llm.json"),
        "init_from": None,
        "out": Path("out.parquet"),
    }


def test_a_failure_is_in_the_rules_log(tmp_path):
    with pytest.raises(RuntimeError, match="cannot write out.parquet"):
        run_stage(job(tmp_path), failing_stage)
    log = (tmp_path / "logs" / "job.log").read_text()
    assert "job failed" in log and "RuntimeError: cannot write out.parquet" in log


def test_a_parameter_of_no_known_kind_is_refused():
    def stage(config: PipelineConfig, seed: int) -> None: ...

    with pytest.raises(TypeError, match=r"stage: parameter\(s\) \['seed'\] are not annotated"):
        stage_parameters(stage)
    with pytest.raises(ValueError, match="out: expected one file"):
        stage_parameters(failing_stage)[0].convert(["a", "b"])


def test_jobs_load_models_with_the_hub_offline_but_prepare_model_fetches_them(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "environ", {})
    seen = {}

    def prepare_model(config: PipelineConfig, out: Path) -> None:
        seen["prepare_model"] = os.environ.get("HF_HUB_OFFLINE")

    def cache_features(config: PipelineConfig, out: Path) -> None:
        seen["cache_features"] = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))

    run_stage(job(tmp_path), prepare_model)
    run_stage(job(tmp_path), cache_features)
    assert seen == {"prepare_model": None, "cache_features": ("1", "1")}


def test_a_job_reserving_gpus_runs_on_gpus_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "environ", {gpus.POOL_VARIABLE: str(tmp_path / "pool")})
    monkeypatch.setattr(gpus, "machine_gpu_ids", lambda: ["0", "1", "2"])
    reserving = job(tmp_path)
    reserving.resources = Namedlist(fromdict={"gpu": 2, "mem_mb": 1000})

    def train_adapter(config: PipelineConfig, out: Path) -> None:
        called["visible"] = os.environ.get("CUDA_VISIBLE_DEVICES")

    run_stage(reserving, train_adapter)
    assert called.pop("visible") == "0,1"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
