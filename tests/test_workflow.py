"""The whole DAG through Snakemake on tiny random backbones: it runs, it is incremental, and a
config change reruns exactly the stages that depend on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from balsa_core.generation import read_targets
from balsa_core.metadata import read_metadata
from balsa_core.training import select_training_targets
from tiny_models import build_tiny_llm, build_tiny_whisper

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")

pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def planned_jobs(workdir: Path) -> dict[str, int]:
    """Rule -> job count of a dry run of results/table4.csv (empty when nothing is to do)."""
    result = snakemake(workdir, "--dry-run", "--quiet", "rules", "--", "results/table4.csv")
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
    config["demo_corpus"].update(n_clips=24)
    config["models"] = {"llm": str(models / "llm"), "encoder": str(models / "whisper")}
    config["generation"].update(max_new_tokens=8, batch_size=8)
    config["features"]["layers"] = [1, 2]
    config["adapter"].update(num_queries=4, num_heads=4)
    config["training"].update(epochs=1, micro_batch_size=4, global_batch_size=8, max_target_tokens=8)
    config["evaluation"]["hallucination"].update(negatives_per_clip=1, max_new_tokens=4)
    return config


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("workflow")
    models = workdir / "tiny-models"
    build_tiny_llm(models / "llm")
    build_tiny_whisper(models / "whisper")
    config = tiny_config(models)
    write_config(workdir, config)
    result = snakemake(workdir, "--cores", "2", "--", "results/table4.csv")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir, config


def test_the_whole_dag_produces_table4(finished_run):
    workdir, _ = finished_run
    table = pd.read_csv(workdir / "results/table4.csv")
    assert list(table["model"]) == ["positive_negative", "positive_only", "text_ceiling"]
    assert list(table.columns[1:]) == [
        "hallucination_acc",
        "hallucination_f1_yes",
        "hallucination_f1_no",
        "hallucination_f1_weighted",
        "hallucination_yes_rate",
        "hallucination_unparsed",
    ]
    assert table.iloc[:, 1:].apply(lambda column: column.between(0, 100)).all().all()
    assert (workdir / "results/table4.png").stat().st_size > 0
    for variant in ("positive_only", "positive_negative"):
        adapter = workdir / "models/adapters" / variant
        assert {"adapter.safetensors", "adapter_config.json", "loss.csv", "loss.png"} <= {
            p.name for p in adapter.iterdir()
        }
    benchmarks = list((workdir / "benchmarks").rglob("*.tsv"))
    assert len(benchmarks) == 18, "every job leaves its benchmark"


def test_both_variants_train_on_the_same_2n_samples(finished_run):
    workdir, _ = finished_run
    logs = {v: (workdir / f"logs/train/{v}.log").read_text() for v in ("positive_only", "positive_negative")}
    counts = {
        v: [line for line in text.splitlines() if "training on" in line][0].split("training on ")[1].split()[0]
        for v, text in logs.items()
    }
    assert counts["positive_only"] == counts["positive_negative"]


def test_a_finished_run_has_nothing_to_do(finished_run):
    workdir, _ = finished_run
    assert planned_jobs(workdir) == {}


def test_changing_an_evaluation_setting_reruns_only_evaluation(finished_run):
    workdir, config = finished_run
    changed = yaml.safe_load(yaml.safe_dump(config))
    changed["evaluation"]["hallucination"]["max_new_tokens"] = 5
    write_config(workdir, changed)
    try:
        jobs = planned_jobs(workdir)
    finally:
        write_config(workdir, config)
    assert set(jobs) == {"hallucination_items", "evaluate_adapter", "evaluate_text_ceiling", "table4"}


def test_changing_a_generation_prompt_reruns_generation_and_what_depends_on_it(finished_run):
    workdir, config = finished_run
    changed = yaml.safe_load(yaml.safe_dump(config))
    changed["prompts"]["generation"]["negative"] = "List the sounds that are not in the audio."
    write_config(workdir, changed)
    try:
        jobs = planned_jobs(workdir)
    finally:
        write_config(workdir, config)
    # Only negative targets change, so only the variant trained on them reruns.
    assert jobs == {"generate_targets": 2, "train_adapter": 1, "evaluate_adapter": 1, "table4": 1}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["training"].update(learning_rat=1e-3), "unknown key 'training.learning_rat'"),
        (lambda c: c["training"].update(epochs="two"), "'training.epochs' must be of type integer"),
        (
            lambda c: c["corpora"].update(esc50={"reader": "esc50", "root": "no/such/ESC-50"}),
            "corpora.esc50.root: directory not found: no/such/ESC-50",
        ),
    ],
)
def test_a_bad_config_stops_before_any_job(tmp_path, edit, message):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    edit(config)
    write_config(tmp_path, config)
    result = snakemake(tmp_path, "--cores", "1", "results/table4.csv")
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stderr.count(message) == 1
    assert not (tmp_path / "data").exists() and not (tmp_path / "logs").exists()


def test_lint_reports_nothing():
    result = snakemake(REPO, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_no_evaluated_clip_is_trained_on(finished_run):
    workdir, config = finished_run
    evaluated = set(pd.read_parquet(workdir / "data/eval/hallucination_items.parquet")["clip_id"])
    targets = pd.concat([read_targets(path) for path in (workdir / "data/targets").rglob("*.parquet")])
    tables = [
        path for path in (workdir / "data/metadata").glob("*.parquet") if not path.name.endswith(".rejects.parquet")
    ]
    metadata = pd.concat([read_metadata(path) for path in tables])
    assert evaluated and set(metadata.loc[metadata["clip_id"].isin(evaluated), "split"]) == {"test"}
    for mix in config["variants"].values():
        trained = set(select_training_targets(targets, mix)["clip_id"])
        assert trained and not trained & evaluated


def test_data_summary_and_multi_audio_pairs(finished_run):
    workdir, _ = finished_run
    result = snakemake(workdir, "--cores", "2", "--", "results/data_summary.csv", "data/pairs/pairs.parquet")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = pd.read_csv(workdir / "results/data_summary.csv").set_index("corpus")
    targets = pd.concat([read_targets(path) for path in (workdir / "data/targets").rglob("*.parquet")])
    # The summary counts, from the metadata alone, the targets generation produced.
    assert summary.drop(index="Total")["training_samples"].to_dict() == targets.groupby("corpus").size().to_dict()
    assert summary.loc["Total", "clips"] == summary.drop(index="Total")["clips"].sum()
    pairs = pd.read_parquet(workdir / "data/pairs/pairs.parquet")
    assert len(pairs) > 0 and (pairs["first_clip_id"] != pairs["second_clip_id"]).all()
    assert (pairs["first_corpus"] == pairs["second_corpus"]).all(), "the default pairs within a corpus"
