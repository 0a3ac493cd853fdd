"""The whole DAG through Snakemake on tiny random backbones: every table, plot, report and
intermediate it promises."""

from __future__ import annotations

import re

import matplotlib.image
import pandas as pd
import pytest
from report_screenshot import find_chromium, screenshot
from workflow_run import adapters, generated_targets, planned_after, planned_jobs, snakemake

from balsa_core.config import load_config, samples_per_training_source, variant_mix
from balsa_core.evaluation.registry import table_columns
from balsa_core.generation import read_targets
from balsa_core.metadata import read_metadata
from balsa_core.training import select_training_targets

# The first test here runs the whole DAG (the session fixture): minutes, many on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


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
    adapter_rows = table5[table5["model"] != "text_ceiling"]
    for rate, notes in zip(adapter_rows["if_forgetting_rate"], adapter_rows["notes"]):
        assert pd.notna(rate) or "if_forgetting_rate" in notes
    assert table5.loc[table5["model"] == "text_ceiling", "if_forgetting_rate"].isna().all()
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
        assert {"adapter.safetensors", "balsa_adapter.json", "loss.csv", "loss.png"} <= {
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
    validated = load_config(workdir / "config.yaml", base_dir=workdir)
    per_seed = samples_per_training_source(validated, audios=1)
    # Table III counts one variant's training samples: from the metadata alone, the targets
    # generation produced for a variant drawing the most per seed (before empty ones are dropped).
    mix = next(mix for mix in map(variant_mix, validated["variants"].values()) if sum(mix.values()) == per_seed)
    targets = generated_targets(workdir, target_sets=tuple(mix))
    drawn = targets[targets["sample_index"] < targets["target_set"].map(mix)]
    assert summary.drop(index="Total")["training_samples"].to_dict() == drawn.groupby("corpus").size().to_dict()
    rows = summary.drop(index="Total")
    assert ((rows["equi_duration_h"] - rows["duration_h"] * per_seed).abs() < 0.0101).all(), "both rounded to 0.01 h"
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
    assert {path.name for path in untrained.iterdir()} == {"adapter.safetensors", "balsa_adapter.json"}

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
