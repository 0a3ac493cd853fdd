from pathlib import Path

import pytest
import yaml

from balsa_core.config import (
    ConfigError,
    configured_evaluations,
    evaluation_input_files,
    generation_params,
    load_config,
    pair_sets,
    samples_per_seed,
    samples_per_training_source,
    single_audio_sets,
    unconfigured_evaluations,
    validate_config,
    variant_mix,
    variant_training,
)
from balsa_core.evaluation.registry import EVALUATIONS

REPO = Path(__file__).resolve().parents[1]


def default_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_default_config_is_valid_and_gets_schema_defaults():
    config = validate_config(default_config(), base_dir=REPO)
    assert config["corpora"]["demo_captions"]["options"] == {}
    assert config["targets"]["positive"] == {
        "prompt": "Replay the audio.",
        "source": "backbone",
        "audios": 1,
        "names_absent_sounds": False,
    }
    assert config["generation"]["splits"] == ["train"]


def with_settings(settings: dict[str, object]) -> dict:
    """The default config with each dotted key of ``settings`` (``training.epochs``) set to its value."""
    config = default_config()
    for dotted, value in settings.items():
        *sections, key = dotted.split(".")
        section = config
        for name in sections:
            section = section[name]
        section[key] = value
    return config


# Mistakes outside the families below, one each: the settings changed, and what the refusal says.
MISTAKES = {
    "unknown-key": ({"training.learning_rat": 1e-4}, r"unknown key 'training\.learning_rat'"),
    "unknown-top-level-key": ({"evalution": {}}, r"unknown key 'evalution'"),
    "wrong-type": ({"training.epochs": "two"}, r"'training\.epochs' must be of type integer, got 'two'"),
    "variant-draws-an-undefined-set": (
        {"variants.openaqa": {"open_aqa": 2}},
        r"variants\.openaqa\.open_aqa: no target set of that name",
    ),
    "unknown-bundled-model": ({"models.llm": "bundled:gpt-5"}, r"models\.llm: unknown bundled model"),
    "global-batch-not-a-multiple-of-micro-batch": (
        {"training.micro_batch_size": 6, "training.global_batch_size": 16},
        "multiple of training.micro_batch_size",
    ),
    "pairs-of-an-unknown-corpus": (
        {"pairs.corpora": {"esc50": {}}},
        r"pairs\.corpora\.esc50: no corpus of that name under corpora",
    ),
    "pairs-a-corpus-cannot-start": (
        {"pairs.corpora": {"demo_tags": {"pairs_per_clip": 3}}},
        r"pairs\.corpora\.demo_tags: max_uses \(2\) < pairs_per_clip \(3\)",
    ),
    "demo-benchmark-file-the-demo-does-not-write": (
        {"evaluation.benchmarks.mmau.files": ["data/demo/benchmarks/mmau/mmau-test.json"]},
        r"benchmarks\.mmau\.files: the demo writes no data/demo/benchmarks/mmau/",
    ),
}


@pytest.mark.parametrize(("settings", "message"), MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_is_named(settings, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(with_settings(settings), base_dir=REPO)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"source": "questions"}, r"targets\.extra: a questions set needs 'questions'"),
        ({"source": "questions", "questions": "no/such.csv"}, r"targets\.extra\.questions: file not found"),
        ({"prompt": "Replay.", "backend": "gemini"}, r"targets\.extra\.backend: 'gemini' is not an entry"),
        ({"source": "ground_truth", "prompt": "Describe.", "audios": 2}, "ground-truth targets exist for single"),
        ({"source": "backbone"}, r"targets\.extra: a backbone set needs 'prompt'"),
        ({"prompt": "Replay.", "audios": 3}, r"'targets\.extra\.audios': 3 is not one of \[1, 2\]"),
    ],
)
def test_target_set_problems_are_named(entry, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(with_settings({"targets.extra": entry}), base_dir=REPO)


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"ma": {"init_from": "nowhere", "difference": 1}}, r"variants\.ma\.init_from: no variant named 'nowhere'"),
        ({"a": {"init_from": "b", "positive": 1}, "b": {"init_from": "a", "positive": 1}}, "loops back"),
        ({"ma": {"init_from": "positive_only"}}, r"variants\.ma: names no target set"),
    ],
)
def test_curriculum_problems_are_named(variants, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(with_settings({f"variants.{name}": entry for name, entry in variants.items()}), base_dir=REPO)


def test_missing_corpus_directory_is_named(tmp_path):
    config = default_config()
    config["corpora"]["esc50"] = {"reader": "esc50", "root": "no/such/ESC-50"}
    with pytest.raises(ConfigError, match=r"corpora\.esc50\.root: directory not found: no/such/ESC-50"):
        validate_config(config, base_dir=tmp_path)


def test_demo_roots_need_no_directory_when_the_demo_writes_them(tmp_path):
    (tmp_path / "config/questions").mkdir(parents=True)
    (tmp_path / "config/questions/demo_questions.csv").write_text("question\nWhat do you hear?\n")
    validate_config(default_config(), base_dir=tmp_path)
    config = default_config()
    del config["demo_corpus"]
    config["evaluation"]["benchmarks"] = {}  # the demo benchmarks come with the demo corpus
    with pytest.raises(ConfigError, match="directory not found: data/demo/esc50"):
        validate_config(config, base_dir=tmp_path)


def test_a_stage_two_variant_is_valid_and_its_sets_count_once():
    config = default_config()
    config["variants"]["ma_difference"] = {"init_from": "positive_negative", "difference": 2}
    validated = validate_config(config, base_dir=REPO)
    assert samples_per_seed(validated, "difference") == 2
    # init_from is no target set: the stage-2 variant draws 2 targets per pair, none per seed.
    assert samples_per_training_source(validated, audios=2) == 2


def test_a_variant_overrides_the_shared_epochs_and_learning_rate_and_nothing_else():
    config = default_config()
    config["variants"]["fast"] = {"positive": 1, "epochs": 3, "learning_rate": 5.0e-4}
    validated = validate_config(config, base_dir=REPO)
    assert variant_training(validated, "fast") == {**validated["training"], "epochs": 3, "learning_rate": 5.0e-4}
    assert variant_mix(validated["variants"]["fast"]) == {"positive": 1}
    config["variants"]["fast"]["learning_rate"] = 0
    with pytest.raises(ConfigError, match="learning_rate"):
        validate_config(config, base_dir=REPO)


def test_backend_options_are_checked_per_type():
    config = default_config()
    config["generation"]["backends"]["server"] = {"type": "openai", "model": "m"}
    with pytest.raises(ConfigError, match="'base_url' is a required property"):
        validate_config(config, base_dir=REPO)
    config = default_config()
    config["generation"]["backends"]["local"]["tensor_parallel_size"] = 2
    with pytest.raises(ConfigError, match="tensor_parallel_size"):
        validate_config(config, base_dir=REPO)
    config = default_config()
    config["generation"]["backends"]["big"] = {"type": "vllm"}
    assert validate_config(config, base_dir=REPO)["generation"]["backends"]["big"]["tensor_parallel_size"] == 1


def test_samples_per_seed_is_the_most_any_variant_draws():
    config = validate_config(default_config(), base_dir=REPO)
    assert samples_per_seed(config, "positive") == 2
    assert samples_per_seed(config, "negative") == 1
    assert samples_per_seed(config, "combined") == 1, "sets no variant trains on are still generated once"
    # Table III counts one variant's samples per seed: positive_only's and positive_negative's 2.
    assert samples_per_training_source(config, audios=1) == 2
    assert samples_per_training_source(config, audios=2) == 0, "no demo variant trains on pairs"
    assert single_audio_sets(config) == ["combined", "negative", "positive", "questions", "rule_based"]
    assert pair_sets(config) == ["caption_both", "difference"]


def test_generation_params_hold_only_what_a_set_depends_on():
    config = validate_config(default_config(), base_dir=REPO)
    backbone = generation_params(config, "positive")
    assert backbone["backend"] == {"type": "transformers", "batch_size": 24}
    assert {"temperature", "top_p", "seed", "max_new_tokens", "shard_size"} <= set(backbone)
    assert generation_params(config, "rule_based") == {"splits": ["train"], "leaking_targets": "keep"}


def test_load_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("evaluation", "entry", "message"),
    [
        (
            "nonspeech7k",
            {"files": ["no/such/metadata.csv"], "audio_dir": "no/such/test"},
            r"evaluation\.benchmarks\.nonspeech7k\.files: not found: no/such/metadata\.csv",
        ),
        (
            "cochlscene",
            {"files": ["tests"], "audio_dir": "tests", "options": {"clips_per_class": 5}},
            r"evaluation\.benchmarks\.cochlscene\.options: unknown option\(s\) \['clips_per_class'\]",
        ),
        ("edansa", {"files": ["tests"]}, r"'evaluation\.benchmarks\.edansa' is missing 'audio_dir'|audio_dir"),
        ("vggsound", {"files": ["tests"], "audio_dir": "tests"}, r"unknown key 'evaluation\.benchmarks\.vggsound'"),
    ],
)
def test_benchmark_problems_are_named(evaluation, entry, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(with_settings({f"evaluation.benchmarks.{evaluation}": entry}), base_dir=REPO)


def test_evaluations_run_and_left_out_follow_the_benchmarks_configured():
    config = validate_config(default_config(), base_dir=REPO)
    run = configured_evaluations(config)
    left_out = unconfigured_evaluations(config)
    assert set(run) | set(left_out) == set(EVALUATIONS) and not set(run) & set(left_out)
    assert {"hallucination", "instruction_following", "clotho_aqa"} <= set(run)
    assert left_out["edansa"].startswith("not configured (evaluation.benchmarks.edansa")
    assert evaluation_input_files(config, "synonym_hypernym")[0] == "data/demo/audiocaps/test.csv"
    assert evaluation_input_files(config, "hallucination") == []


def test_the_grounding_prompt_defaults_to_the_positive_sets_and_untrained_is_no_variant_name():
    config = default_config()
    config["targets"]["positive"]["prompt"] = "Say what you hear."
    config["evaluation"].pop("grounding", None)
    assert validate_config(config, base_dir=REPO)["evaluation"]["grounding"] == {
        "prompt": "Say what you hear.",
        "seed": 0,
    }
    config = default_config()
    del config["targets"]["positive"]
    config["variants"] = {"untrained": {"negative": 2}}
    with pytest.raises(ConfigError, match="variants.untrained: the name is reserved"):
        validate_config(config, base_dir=REPO)
    del config["variants"]["untrained"]
    config["variants"]["negative_only"] = {"negative": 2}
    assert validate_config(config, base_dir=REPO)["evaluation"]["grounding"]["prompt"] == "Replay the audio."
