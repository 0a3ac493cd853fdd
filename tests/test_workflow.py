"""The whole DAG through Snakemake on tiny random backbones: it runs, it is incremental, and a
config change reruns exactly the stages that depend on it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
import yaml
from openai_server import OpenAIServer
from report_screenshot import find_chromium, screenshot

from balsa_core.config import configured_evaluations, trained_samples_per_seed, variant_mix
from balsa_core.evaluation.registry import table_columns
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
    (workdir / "first_run.log").write_text(result.stderr)
    return workdir, config


def adapters(config: dict) -> list[str]:
    """The trained variants, in table order."""
    return sorted(config["variants"])


def test_the_whole_dag_produces_tables_4_and_5(finished_run):
    workdir, config = finished_run
    models = [*adapters(config), "text_ceiling"]
    assert models == ["ma_difference", "positive_negative", "positive_only", "rule_based", "text_ceiling"]
    table4 = pd.read_csv(workdir / "results/table4.csv")
    assert list(table4["model"]) == models
    assert list(table4.columns) == ["model", *table_columns("table4"), "valid", "notes"]
    # The demo configures no EDANSA, CochlScene or Nonspeech7k: empty, and said so in every row.
    for evaluation, column in [
        ("edansa", "edansa_f1"),
        ("cochlscene", "cochlscene_f1"),
        ("nonspeech7k", "nonspeech7k_f1"),
    ]:
        assert table4[column].isna().all()
        assert table4["notes"].str.contains(f"{evaluation}: not configured").all()
    measured4 = ["clotho_aqa_acc", *(c for c in table4.columns if c.startswith("hallucination_"))]
    assert table4[measured4].notna().all().all()
    assert table4[measured4].apply(lambda column: column.between(0, 100)).all().all()

    table5 = pd.read_csv(workdir / "results/table5.csv")
    assert list(table5["model"]) == models
    assert list(table5.columns) == ["model", *table_columns("table5"), "valid", "notes"]
    percentages = [c for c in table_columns("table5") if c not in ("if_open", "if_forgetting_rate")]
    assert table5[percentages].notna().all().all()
    assert table5[percentages].apply(lambda column: column.between(0, 100)).all().all()
    assert table5["if_open"].isna().all() and table5["notes"].str.contains("if_open").all()
    # The forgetting rate is relative to the text-only backbone: empty in its own row.
    # A random tiny backbone may follow no constraint, which leaves the rate undefined and noted.
    for rate, notes in zip(table5["if_forgetting_rate"].iloc[:3], table5["notes"].iloc[:3]):
        assert pd.notna(rate) or "if_forgetting_rate" in notes
    assert pd.isna(table5["if_forgetting_rate"].iloc[3])
    for plot in ("table4.png", "table5.png"):
        assert (workdir / "results" / plot).stat().st_size > 0
    details = pd.read_csv(workdir / "results/eval_details.csv")
    assert set(details["subset"][details["evaluation"] == "sakura"]) >= {"all"}
    # A subset of one item has no interval.
    assert details["ci_low"].notna().any() and details["chance"].notna().any()
    comparisons = pd.read_csv(workdir / "results/comparisons.csv")
    assert {("positive_negative", "positive_only"), ("positive_only", "text_ceiling")} <= set(
        zip(comparisons["model_a"], comparisons["model_b"])
    )
    for variant in ("positive_only", "positive_negative", "ma_difference"):
        adapter = workdir / "models/adapters" / variant
        assert {"adapter.safetensors", "adapter_config.json", "loss.csv", "loss.png"} <= {
            p.name for p in adapter.iterdir()
        }
    benchmarks = list((workdir / "benchmarks").rglob("*.tsv"))
    jobs_run = int(re.findall(r"(\d+) of \d+ steps \(100%\) done", (workdir / "first_run.log").read_text())[-1])
    assert len(benchmarks) == jobs_run, "every job leaves its benchmark"
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


def planned_after(workdir: Path, config: dict, edit, target: str = "results/table4.csv") -> dict[str, int]:
    changed = yaml.safe_load(yaml.safe_dump(config))
    edit(changed)
    write_config(workdir, changed)
    try:
        return planned_jobs(workdir, target)
    finally:
        write_config(workdir, config)


def test_changing_decoding_reruns_every_evaluation_and_nothing_before(finished_run):
    workdir, config = finished_run
    jobs = planned_after(workdir, config, lambda c: c["evaluation"]["answering"].update(max_new_tokens=5))
    evaluations = len(configured_evaluations(config))
    assert jobs == {
        "evaluate_adapter": len(adapters(config)) * evaluations,
        "evaluate_text_ceiling": evaluations,
        "evaluation_tables": 1,
    }


def test_changing_one_evaluation_reruns_only_that_evaluation(finished_run):
    workdir, config = finished_run
    jobs = planned_after(workdir, config, lambda c: c["evaluation"]["hallucination"].update(negatives_per_clip=2))
    assert jobs == {
        "evaluation_items": 1,
        "evaluation_features": 1,
        "evaluate_adapter": len(adapters(config)),
        "evaluate_text_ceiling": 1,
        "evaluation_tables": 1,
    }


def test_changing_the_prompting_rebuilds_every_evaluation_and_nothing_upstream(finished_run):
    workdir, config = finished_run
    jobs = planned_after(workdir, config, lambda c: c["evaluation"]["prompting"].update(shuffle_seed=1))
    # The feature jobs rerun after their items but find their shards current (same clips).
    evaluations = len(configured_evaluations(config))
    assert jobs == {
        "evaluation_items": evaluations,
        "evaluation_features": evaluations,
        "evaluate_adapter": len(adapters(config)) * evaluations,
        "evaluate_text_ceiling": evaluations,
        "evaluation_tables": 1,
    }


def test_a_variants_own_epochs_rerun_only_that_variant(finished_run):
    workdir, config = finished_run
    jobs = planned_after(workdir, config, lambda c: c["variants"]["positive_only"].update(epochs=2))
    evaluations = len(configured_evaluations(config))
    assert jobs == {"train_adapter": 1, "evaluate_adapter": evaluations, "evaluation_tables": 1}


def test_where_jobs_run_reruns_nothing(finished_run):
    workdir, config = finished_run
    assert planned_after(workdir, config, lambda c: c.update(gpus=True, threads_per_job=2)) == {}


def test_the_report_shows_tables_plots_and_loss_curves(finished_run, tmp_path):
    workdir, config = finished_run
    result = snakemake(workdir, "--report", "report.html", "--", "results/table4.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (workdir / "report.html").read_text()
    shown_results = ("table4.png", "table5.png", "table4.csv", "table5.csv", "eval_details.csv", "comparisons.csv")
    for shown in (f"results/{name}" for name in shown_results):
        assert f'"{shown}"' in html
    for variant in adapters(config):
        assert f'"models/adapters/{variant}/loss.png"' in html
    if find_chromium() is None:
        pytest.skip("no Chromium here to render the report")
    shot = tmp_path / "report.png"
    screenshot(workdir / "report.html", "results/table5.png", shot)
    pixels = matplotlib.image.imread(shot)[:, 400:, :3]
    # The opened plot: many coloured bar pixels, not a blank page or an error text.
    coloured = (pixels.max(axis=2) - pixels.min(axis=2)) > 0.3
    assert coloured.mean() > 0.01


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
    evaluations = len(configured_evaluations(config))
    assert jobs == {
        "generate_targets": 2,
        "train_adapter": 2,
        "evaluate_adapter": 2 * evaluations,
        "evaluation_tables": 1,
    }


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
    evaluated = set(pd.read_parquet(workdir / "data/eval/items/hallucination.parquet")["clip_id"])
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
    workdir, config = finished_run
    result = snakemake(workdir, "--cores", "2", "--", "results/data_summary.csv", "data/pairs/pairs.parquet")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = pd.read_csv(workdir / "results/data_summary.csv").set_index("corpus")
    targets = generated_targets(workdir, target_sets=tuple(trained_samples_per_seed(config)))
    # The summary counts, from the metadata alone, the targets generation produced.
    assert summary.drop(index="Total")["training_samples"].to_dict() == targets.groupby("corpus").size().to_dict()
    assert summary.loc["Total", "clips"] == summary.drop(index="Total")["clips"].sum()
    pairs = pd.read_parquet(workdir / "data/pairs/pairs.parquet")
    assert len(pairs) > 0 and (pairs["first_clip_id"] != pairs["second_clip_id"]).all()
    assert (pairs["first_corpus"] == pairs["second_corpus"]).all(), "the default pairs within a corpus"


def test_grounding_has_every_model_and_the_untrained_floor(finished_run):
    workdir, config = finished_run
    result = snakemake(workdir, "--cores", "2", "--", "results/grounding.csv")
    assert result.returncode == 0, result.stderr[-5000:]
    grounding = pd.read_csv(workdir / "results/grounding.csv")
    assert grounding["model"].tolist() == ["untrained", *adapters(config), "text_ceiling"]
    assert (grounding["items"] > 1).all()
    percentages = grounding[["recall", "control_recall"]]
    assert percentages.notna().all().all() and percentages.apply(lambda column: column.between(0, 100)).all().all()
    assert (grounding["grounding_low"] <= grounding["grounding_high"]).all()
    assert (workdir / "results/grounding.png").stat().st_size > 0
    untrained = workdir / "models/adapters/untrained"
    assert {path.name for path in untrained.iterdir()} == {"adapter.safetensors", "adapter_config.json"}

    # Grounding's settings rerun its items, answers and table, and nothing of Tables IV and V.
    def reseed(changed: dict) -> None:
        changed["evaluation"]["grounding"]["seed"] = 1

    assert planned_after(workdir, config, reseed) == {}
    assert planned_after(workdir, config, reseed, "results/grounding.csv") == {
        "evaluation_items": 1,
        "evaluation_features": 1,
        "evaluate_adapter": len(adapters(config)) + 1,  # and the untrained adapter
        "evaluate_text_ceiling": 1,
        "grounding_table": 1,
    }


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
    described = quality.dropna(subset=["mentioning"])
    assert set(described["target_set"]) == set(config["targets"]) - {"negative"}, "the rest are checked for mentions"
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
