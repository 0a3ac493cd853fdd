"""The grounding evaluation through its stages: items from held-out tagged clips, the untrained
adapter, answers of an adapter and of the text ceiling on tiny models, and the table and plot."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

from balsa_core.audio_llm import ADAPTER_CONFIG, ADAPTER_WEIGHTS, load_adapter
from balsa_core.backbones import ModelManifest
from balsa_core.cli import main
from balsa_core.config import ConfigError, validate_config
from balsa_core.evaluation.grounding import QUESTION_TYPE, TABLE_COLUMNS
from balsa_core.evaluation.loaders.common import ITEM_COLUMNS
from balsa_core.stages.evaluation import CLIP_COLUMNS, evaluation_items, grounding_items, grounding_results
from balsa_core.stages.models import evaluate, initial_adapter, untrained_adapter

SETTINGS = {"prompt": "Replay the audio.", "seed": 0}
PROMPTS = {"begin_audio": "[Begin of audio]", "end_audio": "[End of audio]"}
ADAPTER = {"num_queries": 2, "num_layers": 1, "num_heads": 4, "ffn_ratio": 2, "dropout": 0.1}
FEATURES = {"layers": [1, 2], "window": "clip", "trim": True}


def clip_table() -> pd.DataFrame:
    """Clips as ``known_clips`` gives them: held-out tagged clips of two corpora, one whose tag
    names no sound, an untagged one and training clips (whose tags only widen the vocabulary)."""
    rows = [
        ("esc/dog", "test", ["Dog", "Bark"]),
        ("esc/rain", "test", ["Rain"]),
        ("esc/noise", "test", ["Noise"]),
        ("caps/Ysiren", "test", ["Siren", "Vehicle"]),
        ("caps/Ycat", "test", ["Cat"]),
        ("caps/Yuntagged", "test", []),
        ("esc/bird", "train", ["Bird", "Chirp"]),
    ]
    return pd.DataFrame(
        {
            "clip_id": [clip for clip, _, _ in rows],
            "split": [split for _, split, _ in rows],
            "audio_path": [f"/data/{clip}.wav" for clip, _, _ in rows],
            "path_key": [f"/data/{clip}.wav" for clip, _, _ in rows],
            "offset_s": 0.0,
            "duration_s": 3.0,
            "tags": [tags for _, _, tags in rows],
            "description": [", ".join(tags) if tags else "a caption" for _, _, tags in rows],
        }
    )


def test_the_prompt_defaults_to_the_positive_sets_and_untrained_is_no_variant_name(
    request: pytest.FixtureRequest,
) -> None:
    repo = request.config.rootpath
    config = yaml.safe_load((repo / "config.yaml").read_text())
    config["targets"]["positive"]["prompt"] = "Say what you hear."
    config["evaluation"].pop("grounding", None)
    assert validate_config(config, base_dir=repo)["evaluation"]["grounding"] == {
        "prompt": "Say what you hear.",
        "seed": 0,
    }
    config = yaml.safe_load((repo / "config.yaml").read_text())
    del config["targets"]["positive"]
    config["variants"] = {"untrained": {"negative": 2}}
    with pytest.raises(ConfigError, match="variants.untrained: the name is reserved"):
        validate_config(config, base_dir=repo)
    del config["variants"]["untrained"]
    config["variants"]["negative_only"] = {"negative": 2}
    assert validate_config(config, base_dir=repo)["evaluation"]["grounding"]["prompt"] == "Replay the audio."


def test_items_are_held_out_clips_whose_tags_name_a_sound(tmp_path: Path) -> None:
    out = tmp_path / "grounding.parquet"
    # No evaluation.prompting: grounding's items do not depend on it.
    evaluation_items("grounding", None, {"grounding": SETTINGS}, clip_table(), out)
    items = pd.read_parquet(out)

    assert list(items.columns[: len(ITEM_COLUMNS) + len(CLIP_COLUMNS)]) == [*ITEM_COLUMNS, *CLIP_COLUMNS]
    assert items["clip_id"].tolist() == ["esc/dog", "esc/rain", "caps/Ysiren", "caps/Ycat"]
    assert (items["prompt"] == "Replay the audio.").all() and (items["question_type"] == QUESTION_TYPE).all()
    assert (items["control_clip_id"] != items["clip_id"]).all()
    assert set(items["control_clip_id"]) == set(items["clip_id"])
    # Each clip is cached with its corpus, and the text ceiling reads its tags.
    assert (items["corpus_clip_id"] == items["clip_id"]).all()
    assert items.loc[0, "description"] == "Dog, Bark"
    # Precision is over the tags of every clip, training clips' too.
    assert {"bird", "chirp", "dog", "siren"} <= set(items.loc[0, "vocabulary"])


def test_max_clips_draws_across_corpora_with_the_seed() -> None:
    clips = clip_table()
    drawn = {
        seed: grounding_items(clips, {**SETTINGS, "max_clips": 2, "seed": seed})["clip_id"].tolist()
        for seed in range(6)
    }
    assert all(len(chosen) == 2 for chosen in drawn.values())
    assert drawn[0] == grounding_items(clips, {**SETTINGS, "max_clips": 2, "seed": 0})["clip_id"].tolist()
    assert len({tuple(chosen) for chosen in drawn.values()}) > 1
    assert any(clip.startswith("caps/") for chosen in drawn.values() for clip in chosen)


def test_fewer_than_two_clips_is_an_error_naming_the_key() -> None:
    clips = clip_table()
    with pytest.raises(ValueError, match="evaluation.grounding: 1 held-out clip"):
        grounding_items(clips[clips["clip_id"].isin(["esc/dog", "esc/bird"])], SETTINGS)


# --------------------------------------------------------------------------- models


@pytest.fixture
def feature_index(tmp_path: Path) -> Path:
    """A feature cache of the held-out clips: [layers, frames, dim] fp16 per clip."""
    generator = torch.Generator().manual_seed(0)
    clips = clip_table()["clip_id"].tolist()
    features = {clip: torch.randn(2, 5, 8, generator=generator).half() for clip in clips}
    cache = tmp_path / "features"
    cache.mkdir()
    save_file(features, cache / "shard-0.safetensors")
    pd.DataFrame({"clip_id": clips, "shard": "shard-0.safetensors", "frames": 5}).to_parquet(cache / "index.parquet")
    return cache / "index.parquet"


@pytest.fixture
def manifests(tmp_path: Path, tiny_llm_dir: Path) -> tuple[Path, Path]:
    llm, encoder = tmp_path / "llm.json", tmp_path / "encoder.json"
    ModelManifest("llm", "test", str(tiny_llm_dir)).write(llm)
    ModelManifest("encoder", "test", "/models/whisper").write(encoder)
    return llm, encoder


def make_untrained(out_dir: Path, feature_index: Path, manifests: tuple[Path, Path], seed: int) -> None:
    untrained_adapter([feature_index], *manifests, PROMPTS, FEATURES["layers"], ADAPTER, FEATURES, seed, out_dir)


def test_the_untrained_adapter_is_trainings_starting_point_saved_like_a_trained_one(
    tmp_path: Path, feature_index: Path, manifests: tuple[Path, Path]
) -> None:
    out = tmp_path / "untrained"
    make_untrained(out, feature_index, manifests, seed=3)

    assert {path.name for path in out.iterdir()} == {ADAPTER_WEIGHTS, ADAPTER_CONFIG}
    adapter, spec = load_adapter(out)
    assert (spec.adapter.encoder_dim, spec.adapter.llm_dim, spec.adapter.num_encoder_layers) == (8, 32, 2)
    assert spec.adapter.num_queries == ADAPTER["num_queries"] and spec.encoder_layers == [1, 2]
    assert spec.encoder_path == "/models/whisper" and spec.encoder_window == "clip"
    assert spec.template.begin_audio == PROMPTS["begin_audio"]
    expected = initial_adapter(spec.adapter, 3).state_dict()
    saved = load_file(out / ADAPTER_WEIGHTS)
    assert saved.keys() == expected.keys() and all(torch.equal(saved[key], expected[key]) for key in saved)
    make_untrained(tmp_path / "other", feature_index, manifests, seed=4)
    other = load_file(tmp_path / "other" / ADAPTER_WEIGHTS)
    assert any(not torch.equal(saved[key], other[key]) for key in saved)
    # It loads as any adapter does.
    assert all(torch.equal(adapter.state_dict()[key], expected[key]) for key in expected)


def test_the_cli_saves_the_untrained_adapter_of_the_config(
    tmp_path: Path, feature_index: Path, manifests: tuple[Path, Path], request: pytest.FixtureRequest
) -> None:
    repo = request.config.rootpath
    config = yaml.safe_load((repo / "config.yaml").read_text())
    del config["demo_corpus"]
    config["corpora"] = {"esc": {"reader": "esc50", "root": str(tmp_path)}}
    config["evaluation"]["benchmarks"] = {}
    config["features"]["layers"] = FEATURES["layers"]
    config["training"]["seed"] = 5
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "adapter"
    arguments = ["--features", str(feature_index), "--llm", str(manifests[0]), "--encoder", str(manifests[1])]

    assert main(["--config", str(tmp_path / "config.yaml"), "untrained-adapter", *arguments, "--out", str(out)]) == 0

    _, spec = load_adapter(out)
    assert spec.adapter.num_queries == config["adapter"]["num_queries"]
    expected = initial_adapter(spec.adapter, 5).state_dict()
    assert all(torch.equal(load_file(out / ADAPTER_WEIGHTS)[key], expected[key]) for key in expected)


def test_grounding_answers_of_an_adapter_and_the_text_ceiling_make_the_table(
    tmp_path: Path, feature_index: Path, manifests: tuple[Path, Path]
) -> None:
    items = tmp_path / "items.parquet"
    evaluation_items("grounding", None, {"grounding": SETTINGS}, clip_table(), items)
    make_untrained(tmp_path / "untrained", feature_index, manifests, seed=0)
    answering = {"max_new_tokens": 1, "instruction_max_new_tokens": 6, "batch_size": 2}
    sheets = {}
    for model, adapter in (("untrained", tmp_path / "untrained"), ("text_ceiling", None)):
        sheets[model] = tmp_path / f"{model}.answers.parquet"
        evaluate(
            "grounding",
            items,
            model,
            adapter,
            [feature_index] if adapter else [],
            manifests[0],
            PROMPTS,
            answering,
            sheets[model],
            tmp_path / f"{model}.json",
        )
        answers = pd.read_parquet(sheets[model])
        assert len(answers) == 4 and answers["recall"].between(0, 1).all()
        assert (answers["grounding"] == answers["recall"] - answers["control_recall"]).all()
        metrics = json.loads((tmp_path / f"{model}.json").read_text())
        assert metrics["evaluation"] == "grounding" and metrics["answered"] == 4
        assert {"recall", "control_recall", "grounding"} <= set(metrics["overall"])

    grounding_results(list(sheets.values()), list(sheets), 0, tmp_path / "grounding.csv", tmp_path / "grounding.png")
    table = pd.read_csv(tmp_path / "grounding.csv")
    assert list(table.columns) == TABLE_COLUMNS
    assert table["model"].tolist() == ["untrained", "text_ceiling"] and table["items"].tolist() == [4, 4]
    assert matplotlib.image.imread(tmp_path / "grounding.png").shape[:2] == (600, 1200)
    with pytest.raises(ValueError, match="2 answer sheets for 1 models"):
        grounding_results(list(sheets.values()), ["untrained"], 0, tmp_path / "x.csv", tmp_path / "x.png")
