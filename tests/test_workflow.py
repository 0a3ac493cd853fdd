"""The whole DAG through Snakemake on tiny random backbones: it runs, it is incremental, and a
config change reruns exactly the stages that depend on it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openai_server import OpenAIServer

from balsa_core.config import variant_mix
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
    config["demo_corpus"].update(n_clips=24)
    config["models"] = {"llm": str(models / "llm"), "encoder": str(models / "whisper")}
    config["generation"].update(max_new_tokens=8, shard_size=16)
    config["generation"]["backends"]["local"]["batch_size"] = 8
    config["targets"]["questions"]["questions"] = str(REPO / "config/questions/demo_questions.csv")
    config["features"]["layers"] = [1, 2]
    config["adapter"].update(num_queries=4, num_heads=4)
    config["training"].update(epochs=1, micro_batch_size=4, global_batch_size=8, max_target_tokens=8)
    config["evaluation"]["hallucination"].update(negatives_per_clip=1, max_new_tokens=4)
    config["variants"]["ma_difference"] = {"init_from": "positive_negative", "difference": 1}
    return config


def generated_targets(workdir: Path, target_sets: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The single-audio target tables (not their shards) of the given sets, or of all sets."""
    paths = sorted((workdir / "data/targets").glob("*/*.parquet"))
    return pd.concat([read_targets(p) for p in paths if target_sets is None or p.stem in target_sets])


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
    assert list(table["model"]) == ["ma_difference", "positive_negative", "positive_only", "text_ceiling"]
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
    for variant in ("positive_only", "positive_negative", "ma_difference"):
        adapter = workdir / "models/adapters" / variant
        assert {"adapter.safetensors", "adapter_config.json", "loss.csv", "loss.png"} <= {
            p.name for p in adapter.iterdir()
        }
    benchmarks = list((workdir / "benchmarks").rglob("*.tsv"))
    assert len(benchmarks) == 22, "every job leaves its benchmark"
    assert not list((workdir / "models/adapters").glob("*.checkpoints")), "finished runs leave no checkpoints"


def test_stage_two_of_the_curriculum_starts_from_its_stage_one_adapter(finished_run):
    workdir, _ = finished_run
    log = (workdir / "logs/train/ma_difference.log").read_text()
    assert "stage 2 starts from the stage-1 adapter models/adapters/positive_negative" in log
    losses = {v: pd.read_csv(workdir / f"models/adapters/{v}/loss.csv") for v in ("ma_difference", "positive_only")}
    assert len(losses["ma_difference"]) > 0


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
    changed["targets"]["negative"]["prompt"] = "List the sounds that are not in the audio."
    write_config(workdir, changed)
    try:
        jobs = planned_jobs(workdir)
    finally:
        write_config(workdir, config)
    # Only negative targets change: the variant trained on them reruns, and so does stage 2,
    # which starts from that variant's adapter.
    assert jobs == {"generate_targets": 2, "train_adapter": 2, "evaluate_adapter": 2, "table4": 1}


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
    pair_tables = (workdir / "data/pair_targets").glob("*.parquet")
    targets = pd.concat([generated_targets(workdir), *(read_targets(path) for path in pair_tables)])
    tables = [
        path for path in (workdir / "data/metadata").glob("*.parquet") if not path.name.endswith(".rejects.parquet")
    ]
    metadata = pd.concat([read_metadata(path) for path in tables])
    assert evaluated and set(metadata.loc[metadata["clip_id"].isin(evaluated), "split"]) == {"test"}
    for entry in config["variants"].values():
        trained = set(select_training_targets(targets, variant_mix(entry))["clip_ids"].explode())
        assert trained and not trained & evaluated


def test_data_summary_and_multi_audio_pairs(finished_run):
    workdir, _ = finished_run
    result = snakemake(workdir, "--cores", "2", "--", "results/data_summary.csv", "data/pairs/pairs.parquet")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = pd.read_csv(workdir / "results/data_summary.csv").set_index("corpus")
    targets = generated_targets(workdir, target_sets=("positive", "negative"))
    # The summary counts, from the metadata alone, the targets generation produced.
    assert summary.drop(index="Total")["training_samples"].to_dict() == targets.groupby("corpus").size().to_dict()
    assert summary.loc["Total", "clips"] == summary.drop(index="Total")["clips"].sum()
    pairs = pd.read_parquet(workdir / "data/pairs/pairs.parquet")
    assert len(pairs) > 0 and (pairs["first_clip_id"] != pairs["second_clip_id"]).all()
    assert (pairs["first_corpus"] == pairs["second_corpus"]).all(), "the default pairs within a corpus"


def test_every_target_set_is_generated_with_its_quality_report(finished_run):
    workdir, config = finished_run
    result = snakemake(workdir, "--cores", "2", "--", "results/generation_quality.csv")
    assert result.returncode == 0, result.stderr[-5000:]
    quality = pd.read_csv(workdir / "results/generation_quality.csv")
    corpora = sorted(config["corpora"])
    single = ["combined", "negative", "positive", "questions", "rule_based"]
    expected_rows = {(s, c) for s in single for c in [*corpora, "all"]} | {
        ("caption_both", "pairs"),
        ("difference", "pairs"),
    }
    assert set(zip(quality["target_set"], quality["corpus"])) == expected_rows
    checked = quality.dropna(subset=["leak_rate_pct"])
    assert set(checked["target_set"]) == {"negative"}, "only absent-sound targets are checked for leaks"
    for row in quality[quality["corpus"] != "all"].itertuples():
        path = workdir / (
            f"data/pair_targets/{row.target_set}.parquet"
            if row.corpus == "pairs"
            else f"data/targets/{row.corpus}/{row.target_set}.parquet"
        )
        assert len(read_targets(path)) == row.targets - row.dropped

    targets = generated_targets(workdir)
    seeds = pd.concat(
        [read_metadata(p) for p in (workdir / "data/metadata").glob("*.parquet") if "rejects" not in p.name]
    )
    rule_based = targets[targets["target_set"] == "rule_based"]
    assert (rule_based["target"] == rule_based["seed_ids"].str[0].map(seeds.set_index("seed_id")["seed_text"])).all()
    assert (rule_based["instruction"] == "Describe the audio.").all()
    questions = pd.read_csv(config["targets"]["questions"]["questions"])["question"]
    assert set(targets.loc[targets["target_set"] == "questions", "instruction"]) <= set(questions)

    pairs = pd.read_parquet(workdir / "data/pairs/pairs.parquet")
    difference = read_targets(workdir / "data/pair_targets/difference.parquet")
    assert len(difference) == len(pairs) and (difference["clip_ids"].map(len) == 2).all()
    assert difference["prompt"].str.contains(r"\[Begin of audio1\].*\[Begin of audio2\]").all()


def test_a_sampling_change_reruns_backbone_sets_but_not_the_ground_truth(finished_run):
    workdir, config = finished_run
    assert planned_jobs(workdir, "results/generation_quality.csv") == {}
    changed = yaml.safe_load(yaml.safe_dump(config))
    changed["generation"]["temperature"] = 0.9
    write_config(workdir, changed)
    try:
        jobs = planned_jobs(workdir, "results/generation_quality.csv")
    finally:
        write_config(workdir, config)
    # 4 backbone sets x 2 corpora, the two pair sets, and the report; rule_based stays.
    assert jobs == {"generate_targets": 8, "generate_pair_targets": 2, "generation_quality": 1}


def job_processes(script_name: str, workdir: Path) -> list[int]:
    """PIDs of the Snakemake script jobs of ``script_name`` running in ``workdir`` (and no
    other run's, such as a demo running beside the tests)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().decode(errors="replace")
            cwd = Path(os.readlink(cmdline.parent / "cwd"))
        except OSError:
            continue
        if script_name in command and ".snakemake/scripts" in command and cwd == workdir:
            pids.append(int(cmdline.parent.name))
    return pids


def test_a_killed_generation_job_resumes_from_its_finished_shards(tmp_path):
    """kill -9 of the job Snakemake runs: Snakemake deletes the job's declared outputs, the
    shards beside them survive, and the rerun asks the server only for the missing ones."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["demo_corpus"].update(n_clips=40)
    config["generation"].update(shard_size=4, max_new_tokens=8)
    config["targets"]["questions"]["questions"] = str(REPO / "config/questions/demo_questions.csv")
    target = "data/targets/demo_tags/positive.parquet"
    shards = tmp_path / "data/targets/demo_tags/positive.shards"
    with OpenAIServer(delay_s=0.1) as server:
        config["generation"]["backends"]["local"] = {
            "type": "openai",
            "base_url": server.base_url,
            "model": "m",
            "concurrency": 1,
        }
        write_config(tmp_path, config)
        run = subprocess.Popen(
            [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--cores", "1", "--", target],
            cwd=tmp_path,
            env={**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while len(list(shards.glob("shard-*.parquet"))) < 2 and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()[1][-3000:]
            time.sleep(0.02)
        victims = job_processes("generate_targets.py", tmp_path)
        assert victims, "the generation job is running"
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        _, stderr = run.communicate(timeout=120)
        assert run.returncode != 0
        survivors = {p.name: p.stat().st_mtime_ns for p in shards.glob("shard-*.parquet")}
        total_shards = len(json.loads((shards / "manifest.json").read_text())["shards"])
        assert 2 <= len(survivors) < total_shards, stderr[-3000:]
        assert not (tmp_path / target).exists(), "Snakemake removed the failed job's output"
        asked = len(server.requests)

        result = snakemake(tmp_path, "--cores", "1", "--", target)
        assert result.returncode == 0, result.stderr[-3000:]
        asked_on_rerun = len(server.requests) - asked

    targets = read_targets(tmp_path / target)
    requests = json.loads((shards / "manifest.json").read_text())
    assert targets["target_id"].is_unique and len(targets) == requests["rows"] == requests["rows_finished"]
    after = {p.name: p.stat().st_mtime_ns for p in shards.glob("shard-*.parquet")}
    assert all(after[name] == mtime for name, mtime in survivors.items()), "finished shards were not rewritten"
    rows_per_shard = {entry["file"]: entry["rows"] for entry in requests["shards"]}
    assert asked_on_rerun == sum(rows for name, rows in rows_per_shard.items() if name not in survivors)
    assert f"{len(survivors)} already finished" in (tmp_path / "logs/generate/demo_tags/positive.log").read_text()
