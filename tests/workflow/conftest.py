"""The workflow tests' one finished run of the whole DAG, shared by every module here."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_run import snakemake, tiny_config, write_config

from tiny_models import build_tiny_llm, build_tiny_whisper


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("workflow")
    models = workdir / "tiny-models"
    build_tiny_llm(models / "llm")
    build_tiny_whisper(models / "whisper")
    config = tiny_config(models)
    write_config(workdir, config)
    # Table IV needs no pair targets; the generation report, which the rerun tests plan, needs them all.
    result = snakemake(workdir, "--cores", "2", "--", "results/table4.csv", "results/generation_quality.csv")
    assert result.returncode == 0, result.stderr[-5000:]
    (workdir / "first_run.log").write_text(result.stderr)
    return workdir, config
