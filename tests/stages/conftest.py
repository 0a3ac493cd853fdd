"""Shared by the stage tests: the typed config of config.yaml with edits, a small demo corpus
read by the metadata stage, and held-out clips as ``evaluation_clips`` writes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from balsa_core.config import validate_config
from balsa_core.demo.corpus import DemoCorpusConfig, generate_demo_corpus
from balsa_core.settings import PipelineConfig
from balsa_core.stages.metadata import metadata

REPO = Path(__file__).resolve().parents[2]
ConfigMaker = Callable[..., PipelineConfig]


@pytest.fixture
def make_config() -> ConfigMaker:
    """``make_config(edit)``: config.yaml after ``edit`` (a function of its dict), validated and
    typed as the workflow does."""

    def make(edit: Callable[[dict], None] | None = None) -> PipelineConfig:
        config = yaml.safe_load((REPO / "config.yaml").read_text())
        if edit is not None:
            edit(config)
        return PipelineConfig.from_validated(validate_config(config, base_dir=REPO))

    return make


@pytest.fixture
def demo_metadata(tmp_path: Path, make_config: ConfigMaker) -> tuple[PipelineConfig, list[Path]]:
    """A 30-clip demo corpus under ``tmp_path``, the config that reads it, and the metadata
    tables the metadata stage wrote of its two corpora."""
    generate_demo_corpus(DemoCorpusConfig(n_clips=30, seed=7), tmp_path / "demo")

    def read_the_demo_here(config: dict) -> None:
        for corpus in config["corpora"].values():
            corpus["root"] = str(tmp_path / corpus["root"].removeprefix("data/"))

    config = make_config(read_the_demo_here)
    tables = []
    for corpus in config.corpora:
        tables.append(tmp_path / "metadata" / f"{corpus}.parquet")
        metadata(config, corpus, tables[-1], tmp_path / "metadata" / f"{corpus}.rejects.parquet")
    return config, tables


@pytest.fixture
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
