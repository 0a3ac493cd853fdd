"""The grounding stages: the untrained adapter (by hand and through the CLI), and answers of an
adapter and of the text ceiling on tiny models that make the table and plot (its items:
test_evaluate.py)."""

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
from balsa_core.evaluation.grounding import TABLE_COLUMNS
from balsa_core.features import FeatureStore
from balsa_core.settings import PipelineConfig
from balsa_core.stages.evaluate import evaluate_adapter, evaluate_text_ceiling, evaluation_items
from balsa_core.stages.grounding import grounding_table, untrained_adapter, write_grounding_table
from balsa_core.stages.train import initial_adapter

PROMPTS = {"begin_audio": "[Begin of audio]", "end_audio": "[End of audio]"}
ADAPTER = {"num_queries": 2, "num_layers": 1, "num_heads": 4, "ffn_ratio": 2, "dropout": 0.1}
FEATURES = {"layers": [1, 2], "window": "clip", "trim": True}
ANSWERING = {"max_new_tokens": 1, "instruction_max_new_tokens": 6, "batch_size": 2}


def tiny_config(make_config, seed: int = 0) -> PipelineConfig:
    """config.yaml with the tiny models' adapter and layers, and short answers."""

    def edit(config: dict) -> None:
        config["prompts"].update(PROMPTS)
        config["adapter"] = ADAPTER
        config["features"].update(FEATURES)
        config["training"]["seed"] = seed
        config["evaluation"]["answering"] = ANSWERING

    return make_config(edit)


@pytest.fixture
def feature_index(tmp_path: Path, clip_table: pd.DataFrame) -> Path:
    """A feature cache of the held-out clips: [layers, frames, dim] fp16 per clip."""
    generator = torch.Generator().manual_seed(0)
    clips = clip_table["clip_id"].tolist()
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


def make_untrained(config: PipelineConfig, out_dir: Path, feature_index: Path, manifests: tuple[Path, Path]) -> None:
    untrained_adapter(config, [feature_index], *manifests, out_dir / ADAPTER_WEIGHTS)


def test_the_untrained_adapter_is_trainings_starting_point_saved_like_a_trained_one(
    tmp_path: Path, feature_index: Path, manifests: tuple[Path, Path], make_config
) -> None:
    out = tmp_path / "untrained"
    make_untrained(tiny_config(make_config, seed=3), out, feature_index, manifests)

    assert {path.name for path in out.iterdir()} == {ADAPTER_WEIGHTS, ADAPTER_CONFIG}
    adapter, spec = load_adapter(out)
    assert (spec.adapter.encoder_dim, spec.adapter.llm_dim, spec.adapter.num_encoder_layers) == (8, 32, 2)
    assert spec.adapter.num_queries == ADAPTER["num_queries"] and spec.encoder_layers == [1, 2]
    assert spec.encoder_path == "/models/whisper" and spec.encoder_window == "clip"
    assert spec.template.begin_audio == PROMPTS["begin_audio"]
    expected = initial_adapter(spec.adapter, 3, store := FeatureStore([feature_index]), store).state_dict()
    saved = load_file(out / ADAPTER_WEIGHTS)
    assert saved.keys() == expected.keys() and all(torch.equal(saved[key], expected[key]) for key in saved)
    make_untrained(tiny_config(make_config, seed=4), tmp_path / "other", feature_index, manifests)
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
    config["pairs"].pop("corpora")  # the demo's pair caps name the demo corpora
    config["corpora"] = {"esc": {"reader": "esc50", "root": str(tmp_path)}}
    config["evaluation"]["benchmarks"] = {}
    config["features"]["layers"] = FEATURES["layers"]
    config["training"]["seed"] = 5
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "adapter"
    arguments = ["--features", str(feature_index), "--llm", str(manifests[0]), "--encoder", str(manifests[1])]
    arguments += ["--weights", str(out / ADAPTER_WEIGHTS)]

    assert main(["--config", str(tmp_path / "config.yaml"), "untrained_adapter", *arguments]) == 0

    _, spec = load_adapter(out)
    assert spec.adapter.num_queries == config["adapter"]["num_queries"]
    expected = initial_adapter(spec.adapter, 5, store := FeatureStore([feature_index]), store).state_dict()
    assert all(torch.equal(load_file(out / ADAPTER_WEIGHTS)[key], expected[key]) for key in expected)


def test_grounding_answers_of_an_adapter_and_the_text_ceiling_make_the_table(
    tmp_path: Path, feature_index: Path, manifests: tuple[Path, Path], clip_table: pd.DataFrame, make_config
) -> None:
    config = tiny_config(make_config)
    items, clips = tmp_path / "items.parquet", tmp_path / "clips.parquet"
    clip_table.to_parquet(clips, index=False)
    evaluation_items(config, "grounding", clips, items)
    make_untrained(config, tmp_path / "untrained", feature_index, manifests)
    sheets = {model: tmp_path / f"{model}.answers.parquet" for model in ("untrained", "text_ceiling")}
    adapter = tmp_path / "untrained" / ADAPTER_WEIGHTS
    evaluate_adapter(
        config,
        "grounding",
        "untrained",
        items,
        feature_index,
        [],
        adapter,
        sheets["untrained"],
        tmp_path / "untrained.json",
    )
    evaluate_text_ceiling(
        config, "grounding", items, manifests[0], sheets["text_ceiling"], tmp_path / "text_ceiling.json"
    )
    for model in sheets:
        answers = pd.read_parquet(sheets[model])
        assert len(answers) == 4 and answers["recall"].between(0, 1).all()
        assert (answers["grounding"] == answers["recall"] - answers["control_recall"]).all()
        metrics = json.loads((tmp_path / f"{model}.json").read_text())
        assert metrics["evaluation"] == "grounding" and metrics["answered"] == 4
        assert {"recall", "control_recall", "grounding"} <= set(metrics["overall"])

    write_grounding_table(
        list(sheets.values()), list(sheets), 0, tmp_path / "grounding.csv", tmp_path / "grounding.png"
    )
    table = pd.read_csv(tmp_path / "grounding.csv")
    assert list(table.columns) == TABLE_COLUMNS
    assert table["model"].tolist() == ["untrained", "text_ceiling"] and table["items"].tolist() == [4, 4]
    assert matplotlib.image.imread(tmp_path / "grounding.png").shape[:2] == (600, 1200)
    with pytest.raises(ValueError, match="2 answer sheets for 1 models"):
        write_grounding_table(list(sheets.values()), ["untrained"], 0, tmp_path / "x.csv", tmp_path / "x.png")
    # The stage's rows: the untrained floor, every variant (here answering as the floor does), the text ceiling.
    variants = [sheets["untrained"]] * len(config.variants)
    grounding_table(
        config, [sheets["untrained"], *variants, sheets["text_ceiling"]], tmp_path / "g.csv", tmp_path / "g.png"
    )
    assert pd.read_csv(tmp_path / "g.csv")["model"].tolist() == config.grounding_models
