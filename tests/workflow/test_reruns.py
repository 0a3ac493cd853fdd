"""A config change reruns exactly the stages that depend on it (the README's rerun table)."""

from __future__ import annotations

import pytest
import yaml
from workflow_run import adapters, planned_after, planned_jobs, write_config

from balsa_core.config import configured_evaluations

# The first test here runs the whole DAG (the session fixture): minutes, many on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


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
