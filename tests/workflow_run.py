"""Running this workflow's Snakefile in a scratch directory on tiny random backbones: the
helpers the workflow tests share (tests/workflow/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from balsa_core.generation import read_targets

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        # The first full run of the DAG takes minutes; on a loaded machine, many.
        timeout=1800,
    )


def planned_jobs(workdir: Path, target: str = "results/table4.csv") -> dict[str, int]:
    """Rule -> job count of a dry run of ``target`` (empty when nothing is to do)."""
    result = snakemake(workdir, "--dry-run", "--quiet", "rules", "--", target)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    if "Job stats:" not in lines:
        assert "Nothing to be done" in result.stdout + result.stderr, result.stdout
        return {}
    table = lines[lines.index("Job stats:") + 3 :]
    jobs = {}
    for line in table:
        if not line.strip():
            break
        rule, count = line.split()
        jobs[rule] = int(count)
    jobs.pop("total", None)
    return jobs


def tiny_config(models: Path) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    # Enough single-event clips that some are held out (the first 15 cover every class once).
    config["demo_corpus"].update(n_clips=40)
    config["models"] = {"llm": str(models / "llm"), "encoder": str(models / "whisper")}
    config["generation"].update(max_new_tokens=8, shard_size=16)
    config["generation"]["backends"]["local"]["batch_size"] = 8
    config["targets"]["questions"]["questions"] = str(REPO / "config/questions/demo_questions.csv")
    config["features"]["layers"] = [1, 2]
    config["adapter"].update(num_queries=4, num_heads=4)
    config["training"].update(epochs=1, micro_batch_size=4, global_batch_size=8, max_target_tokens=8)
    config["evaluation"]["hallucination"].update(negatives_per_clip=1)
    config["evaluation"]["answering"].update(max_new_tokens=4, instruction_max_new_tokens=6)
    for benchmark in config["evaluation"]["benchmarks"].values():
        benchmark["max_items"] = 4
    config["variants"]["ma_difference"] = {"init_from": "positive_negative", "difference": 1}
    return config


def generated_targets(workdir: Path, target_sets: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The single-audio target tables (not their shards) of the given sets, or of all sets."""
    paths = sorted((workdir / "data/targets").glob("*/*.parquet"))
    return pd.concat([read_targets(p) for p in paths if target_sets is None or p.stem in target_sets])


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def planned_after(workdir: Path, config: dict, edit, target: str = "results/table4.csv") -> dict[str, int]:
    changed = yaml.safe_load(yaml.safe_dump(config))
    edit(changed)
    write_config(workdir, changed)
    try:
        return planned_jobs(workdir, target)
    finally:
        write_config(workdir, config)


def adapters(config: dict) -> list[str]:
    """The trained variants, in table order."""
    return sorted(config["variants"])
