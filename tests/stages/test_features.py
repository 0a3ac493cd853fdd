"""The feature stage caches the configured layers of every clip of a corpus."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from balsa_core.backbones import ModelManifest
from balsa_core.features import FeatureStore
from balsa_core.metadata import read_metadata
from balsa_core.stages.features import cache_features


def test_every_clip_of_the_corpus_has_its_layers_cached(tmp_path: Path, tiny_whisper_dir: Path, demo_metadata) -> None:
    config, tables = demo_metadata
    # The tiny encoder has two layers.
    config = replace(config, features=replace(config.features, layers=[1, 2]))
    ModelManifest("encoder", "test", str(tiny_whisper_dir)).write(tmp_path / "encoder.json")
    cache_features(config, tables[0], tmp_path / "encoder.json", tmp_path / "features" / "index.parquet")
    store = FeatureStore([tmp_path / "features" / "index.parquet"])
    clips = set(read_metadata(tables[0])["clip_id"])
    assert set(store) == clips
    assert store.get(sorted(clips)[0]).shape[0] == len(config.features.layers)
