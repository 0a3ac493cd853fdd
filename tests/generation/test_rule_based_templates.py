"""The rule-based baseline's several templates (LISTEN Sec. 5.4: "we design several rule-based
prompt templates"): each seed's samples take distinct templates in a seeded order of its own,
and a single prompt stays the fixed instruction it was."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from balsa_core.config import ConfigError, generation_params, validate_config
from balsa_core.generation.target_sets import TargetSet, requests_for
from balsa_core.prompts import PromptTemplate

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = ["Describe the audio.", "Caption the audio.", "What sounds does the audio contain?"]


def tag_seeds(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seed_id": [f"t/{i:03d}" for i in range(count)],
            "clip_id": [f"t/c{i:03d}" for i in range(count)],
            "corpus": ["t"] * count,
            "split": ["train"] * count,
            "seed_text": [f"tag {i}, tag {i + 1}" for i in range(count)],
        }
    )


def default_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def rule_based(samples_per_seed: int, **entry: object) -> TargetSet:
    return TargetSet("rule_based", source="ground_truth", samples_per_seed=samples_per_seed, **entry)


def test_each_seeds_samples_take_distinct_templates_with_its_seed_text_as_target():
    requests = requests_for(rule_based(2, templates=TEMPLATES), tag_seeds(60), PromptTemplate(), ["train"], seed=3)
    per_seed = requests.groupby("source_id")
    assert (per_seed["instruction"].nunique() == 2).all(), "a seed's two samples are asked differently"
    assert (per_seed["reference"].nunique() == 1).all() and requests["prompt"].isna().all()
    # Every template is used, none far more than its share of the 120 samples.
    assert set(Counter(requests["instruction"])) == set(TEMPLATES)
    assert max(Counter(requests["instruction"]).values()) < 60


def test_the_order_is_drawn_per_seed_from_the_seed_alone():
    target_set = rule_based(1, templates=TEMPLATES)
    seeds = tag_seeds(30)
    everything = requests_for(target_set, seeds, PromptTemplate(), ["train"], seed=0).set_index("source_id")
    some = requests_for(target_set, seeds.iloc[::3], PromptTemplate(), ["train"], seed=0).set_index("source_id")
    pd.testing.assert_series_equal(some["instruction"], everything.loc[some.index, "instruction"])
    other_seed = requests_for(target_set, seeds, PromptTemplate(), ["train"], seed=1).set_index("source_id")
    assert (other_seed["instruction"] != everything["instruction"]).any()


def test_more_samples_than_templates_cycle_through_the_seeds_order():
    requests = requests_for(rule_based(3, templates=TEMPLATES[:2]), tag_seeds(4), PromptTemplate(), ["train"])
    for _, samples in requests.groupby("source_id"):
        first, second, third = samples.sort_values("sample_index")["instruction"]
        assert first != second and third == first


def test_a_single_prompt_is_every_samples_instruction():
    requests = requests_for(rule_based(2, prompt="Describe the audio."), tag_seeds(5), PromptTemplate(), ["train"])
    assert set(requests["instruction"]) == {"Describe the audio."}


def test_templates_rerun_with_the_generation_seed_and_are_ground_truth_only():
    config = default_config()
    config["targets"]["rule_based"] = {"source": "ground_truth", "templates": TEMPLATES}
    validated = validate_config(config, base_dir=REPO)
    assert generation_params(validated, "rule_based")["seed"] == validated["generation"]["seed"]
    for entry, message in [
        (
            {"prompt": "Replay.", "templates": TEMPLATES},
            r"targets\.rule_based\.templates: only used with source: ground_truth",
        ),
        ({"source": "ground_truth", "prompt": "Describe.", "templates": TEMPLATES}, "either 'prompt' or 'templates'"),
    ]:
        config = default_config()
        config["targets"]["rule_based"] = entry
        with pytest.raises(ConfigError, match=message):
            validate_config(config, base_dir=REPO)
