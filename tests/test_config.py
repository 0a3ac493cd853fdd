from pathlib import Path

import pytest
import yaml

from balsa_core.config import ConfigError, generated_kinds, load_config, samples_per_seed, validate_config

REPO = Path(__file__).resolve().parents[1]


def default_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_default_config_is_valid_and_gets_schema_defaults():
    config = validate_config(default_config(), base_dir=REPO)
    assert config["corpora"]["demo_captions"]["options"] == {}
    assert config["generation"]["splits"] == ["train"]


def test_unknown_key_is_named():
    config = default_config()
    config["training"]["learning_rat"] = 1e-4
    with pytest.raises(ConfigError, match=r"unknown key 'training\.learning_rat'"):
        validate_config(config)


def test_unknown_top_level_key_is_named():
    config = default_config()
    config["evalution"] = {}
    with pytest.raises(ConfigError, match=r"unknown key 'evalution'"):
        validate_config(config)


def test_wrong_type_is_named():
    config = default_config()
    config["training"]["epochs"] = "two"
    with pytest.raises(ConfigError, match=r"'training\.epochs' must be of type integer, got 'two'"):
        validate_config(config)


def test_missing_corpus_directory_is_named(tmp_path):
    config = default_config()
    config["corpora"]["esc50"] = {"reader": "esc50", "root": "no/such/ESC-50"}
    with pytest.raises(ConfigError, match=r"corpora\.esc50\.root: directory not found: no/such/ESC-50"):
        validate_config(config, base_dir=tmp_path)


def test_demo_roots_need_no_directory_when_the_demo_writes_them(tmp_path):
    validate_config(default_config(), base_dir=tmp_path)
    config = default_config()
    del config["demo_corpus"]
    with pytest.raises(ConfigError, match="directory not found: data/demo/esc50"):
        validate_config(config, base_dir=tmp_path)


def test_variant_needs_a_prompt_for_each_kind():
    config = default_config()
    config["variants"]["combined"] = {"combined": 1}
    del config["prompts"]["generation"]["combined"]
    with pytest.raises(ConfigError, match=r"variants\.combined\.combined: no prompt defined"):
        validate_config(config)


def test_global_batch_must_be_a_multiple_of_micro_batch():
    config = default_config()
    config["training"].update(micro_batch_size=6, global_batch_size=16)
    with pytest.raises(ConfigError, match="multiple of training.micro_batch_size"):
        validate_config(config)


def test_unknown_bundled_model():
    config = default_config()
    config["models"]["llm"] = "bundled:gpt-5"
    with pytest.raises(ConfigError, match=r"models\.llm: unknown bundled model"):
        validate_config(config)


def test_samples_per_seed_is_the_most_any_variant_draws():
    config = validate_config(default_config())
    assert samples_per_seed(config, "positive") == 2
    assert samples_per_seed(config, "negative") == 1
    assert samples_per_seed(config, "combined") == 0
    assert generated_kinds(config) == ["negative", "positive"]


def test_load_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
