"""rules/features.smk: the encoder's hidden states of every clip of a corpus, cached in shards."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from balsa_core.metadata import read_metadata
from balsa_core.settings import Features, PipelineConfig


def cache_features(config: PipelineConfig, metadata: Path, encoder: Path, index: Path) -> None:
    """Cache the configured layers of every clip of one corpus; the shards go beside ``index``."""
    cache_clip_features(read_metadata(metadata), encoder, config.features, index)


def cache_clip_features(clips: pd.DataFrame, encoder_manifest: Path, settings: Features, index: Path) -> None:
    """Cache the features of ``clips`` (``clip_id``, ``audio_path`` and their window) with the
    encoder of ``encoder_manifest``; unreadable audio is reported and skipped."""
    from balsa_core import features
    from balsa_core.backbones import ModelManifest, inference_device, load_encoder

    encoder_path = ModelManifest.read(encoder_manifest).path
    # With no clips the cache only writes its empty index, so the encoder is not even loaded.
    encoder = feature_extractor = None
    if len(clips):
        encoder, feature_extractor = load_encoder(encoder_path)
        encoder = encoder.to(inference_device())
    features.cache_features(
        clips[["clip_id", "audio_path", "offset_s", "duration_s"]],
        encoder,
        feature_extractor,
        layers=settings.layers,
        out_dir=index.parent,
        fingerprint={"encoder": encoder_path},
        batch_size=settings.batch_size,
        shard_size=settings.shard_size,
        window=settings.window,
        trim=settings.trim,
    )
