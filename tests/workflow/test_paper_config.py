"""config/paper.yaml against a fake directory tree of the eight corpora and every benchmark
release (empty files in their official layouts): the config is valid, the dry run plans the
papers' whole DAG, and both configs lint. What each rule's jobs are given under the README's
commands (workstation, SLURM): tests/test_profiles.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from paper_layout import OFFICIAL_LAYOUT_FILES, write_official_layout

from balsa_core.config import UNTRAINED, load_config
from balsa_core.evaluation.registry import EVALUATIONS, GROUNDING
from balsa_core.readers import annotation_files

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
PAPER_CONFIG = REPO / "config/paper.yaml"

pytestmark = pytest.mark.slow

# positive, negative, combined, rule_based, external x3, questions, openaqa_answers
SINGLE_AUDIO_SETS = 9
VARIANTS = 12
CORPORA = 8
BENCHMARKS = len(EVALUATIONS)
# Grounding's items, features and answers come from the evaluation rules too, one more evaluation,
# asked of every variant, the untrained adapter and the text ceiling.
ITEM_EVALUATIONS = BENCHMARKS + 1
# The papers' DAG: rule -> jobs, for the default target (the tables, grounding and the data reports).
EXPECTED_JOBS = {
    "prepare_model": 2,
    "check_shapes": 1,
    "metadata": CORPORA,
    "cache_features": CORPORA,
    "generate_targets": SINGLE_AUDIO_SETS * CORPORA,
    "multi_audio_pairs": 1,
    "generate_pair_targets": 2,
    "train_adapter": VARIANTS,
    "untrained_adapter": 1,
    "evaluation_clips": 1,
    "evaluation_items": ITEM_EVALUATIONS,
    "evaluation_features": ITEM_EVALUATIONS,
    "evaluate_adapter": VARIANTS * ITEM_EVALUATIONS + 1,
    "evaluate_text_ceiling": ITEM_EVALUATIONS,
    "evaluation_tables": 1,
    "grounding_table": 1,
    "data_summary": 1,
    "generation_quality": 1,
    "all": 1,
}


@pytest.fixture(scope="module")
def paper_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("paper")
    write_official_layout(root)
    # The demo config beside it, as in a checkout: --configfile must replace it, not extend it.
    (root / "config.yaml").write_text((REPO / "config.yaml").read_text())
    return root


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--configfile", str(PAPER_CONFIG), *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def job_counts(output: str) -> dict[str, int]:
    lines = output.splitlines()
    start = lines.index("Job stats:") + 3
    counts = {}
    for line in lines[start:]:
        if not line.strip():
            break
        rule, count = line.split()
        counts[rule] = int(count)
    counts.pop("total")
    return counts


def test_the_readers_want_exactly_the_official_files(paper_tree):
    config = load_config(PAPER_CONFIG, base_dir=paper_tree)
    wanted = {
        str(path.relative_to(corpus["root"]))
        for corpus in config["corpora"].values()
        for path in annotation_files(corpus["reader"], Path(corpus["root"]), corpus.get("options", {}))
    }
    roots = [corpus["root"] for corpus in config["corpora"].values()]
    official = {str(Path(f).relative_to(r)) for f in OFFICIAL_LAYOUT_FILES for r in roots if f.startswith(r + "/")}
    assert wanted <= official


def test_the_paper_dry_run_plans_every_rule_and_variant(paper_tree):
    result = snakemake(paper_tree, "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = job_counts(result.stdout)
    print("\njobs per rule of the paper configuration:")
    for rule, count in counts.items():
        print(f"  {rule:24s} {count:5d}")
    assert counts == EXPECTED_JOBS


def test_every_variant_and_evaluation_is_in_the_dag(paper_tree):
    result = snakemake(paper_tree, "--dry-run", "--summary")
    assert result.returncode == 0, result.stderr[-3000:]
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    for variant in config["variants"]:
        assert f"models/adapters/{variant}/adapter.safetensors" in result.stdout
        for evaluation in [*EVALUATIONS, GROUNDING]:
            assert f"results/eval/{evaluation}/{variant}.json" in result.stdout
    assert f"results/eval/{GROUNDING}/{UNTRAINED}.json" in result.stdout


@pytest.mark.parametrize("config", ["config.yaml", "config/paper.yaml"])
def test_lint_reports_nothing_for_both_configs(paper_tree, config):
    workdir = REPO if config == "config.yaml" else paper_tree
    result = subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--configfile", str(REPO / config), "--lint"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr
