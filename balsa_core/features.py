"""Cache of the frozen Whisper encoder's hidden states, the only audio input the adapter sees.

Per clip we keep the configured hidden-state layers, trimmed to the clip's real length
(Whisper emits 50 frames per second of a 30 s window) and stored in float16: the padded
remainder carries no information and would make the cache up to 10x larger.

Layout: ``<dir>/shard-00000.safetensors`` ... (tensors ``[layers, frames, dim]`` keyed by
clip id) and ``<dir>/index.parquet`` (clip id -> shard, frames). Shards are written under a
temporary name and renamed, and carry a fingerprint of what produced them, so an
interrupted run resumes by keeping only finished shards made with the same settings.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from balsa_core.audio import AudioError, load_audio

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAMES_PER_SECOND = 50
MAX_FRAMES = 1500  # 30 s, Whisper's fixed input window
INDEX_NAME = "index.parquet"


def frames_for(num_samples: int) -> int:
    return max(1, min(MAX_FRAMES, math.ceil(num_samples * FRAMES_PER_SECOND / SAMPLE_RATE)))


@torch.inference_mode()
def encode_waveforms(
    encoder: torch.nn.Module, feature_extractor, waveforms: Sequence[np.ndarray], layers: Sequence[int]
) -> list[torch.Tensor]:
    """Hidden states ``[len(layers), frames, dim]`` per waveform, trimmed to its length."""
    inputs = feature_extractor(list(waveforms), sampling_rate=SAMPLE_RATE, return_tensors="pt")
    features = inputs["input_features"].to(dtype=next(encoder.parameters()).dtype)
    hidden_states = encoder(features, output_hidden_states=True).hidden_states
    if max(layers) >= len(hidden_states):
        raise ValueError(f"features.layers {list(layers)}: the encoder has only {len(hidden_states)} hidden states")
    stacked = torch.stack([hidden_states[layer] for layer in layers], dim=1)  # [B, L, T, D]
    return [stacked[i, :, : frames_for(len(w))].contiguous() for i, w in enumerate(waveforms)]


def cache_features(
    clips: pd.DataFrame,
    encoder: torch.nn.Module,
    feature_extractor,
    layers: Sequence[int],
    out_dir: Path,
    fingerprint: dict,
    batch_size: int = 16,
    shard_size: int = 256,
) -> pd.DataFrame:
    """Encode every clip into shards and return the index. ``clips`` has ``clip_id`` and
    ``audio_path``, and optionally the window ``offset_s``/``duration_s`` of the file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = clips.drop_duplicates("clip_id").sort_values("clip_id").reset_index(drop=True)
    stamp = json.dumps({**fingerprint, "layers": list(layers)}, sort_keys=True)
    index_parts, started = [], time.perf_counter()
    for shard_number, start in enumerate(range(0, len(clips), shard_size)):
        shard_clips = clips.iloc[start : start + shard_size]
        shard_path = out_dir / f"shard-{shard_number:05d}.safetensors"
        if not _shard_is_current(shard_path, stamp, _shard_contents(shard_clips)):
            _write_shard(shard_path, shard_clips, encoder, feature_extractor, layers, stamp, batch_size)
        index_parts.append(_shard_index(shard_path))
        done = start + len(shard_clips)
        log.info("features: %d/%d clips (%.1f clips/s)", done, len(clips), done / (time.perf_counter() - started))
    index = pd.concat(index_parts, ignore_index=True) if index_parts else _empty_index()
    index.to_parquet(out_dir / INDEX_NAME, index=False)
    return index


def _write_shard(
    path: Path, clips: pd.DataFrame, encoder, feature_extractor, layers, stamp: str, batch_size: int
) -> None:
    tensors: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    for start in range(0, len(clips), batch_size):
        batch = clips.iloc[start : start + batch_size]
        waveforms, ids = [], []
        for clip in batch.to_dict("records"):
            clip_id, offset, duration = clip["clip_id"], clip.get("offset_s", 0.0), clip.get("duration_s")
            try:
                window = None if duration is None or np.isnan(duration) else duration
                waveforms.append(load_audio(clip["audio_path"], SAMPLE_RATE, offset_s=offset, duration_s=window))
                ids.append(clip_id)
            except AudioError as error:
                log.warning("features: skipping %s: %s", clip_id, error)
                skipped.append(clip_id)
        if waveforms:
            for clip_id, hidden in zip(ids, encode_waveforms(encoder, feature_extractor, waveforms, layers)):
                tensors[clip_id] = hidden.to(torch.float16)
    metadata = {"fingerprint": stamp, "clips": json.dumps(_shard_contents(clips)), "skipped": json.dumps(skipped)}
    temporary = path.with_suffix(".tmp")
    save_file(tensors, temporary, metadata=metadata)
    os.replace(temporary, path)


def _shard_contents(clips: pd.DataFrame) -> list[list]:
    """What a shard holds: each clip with its window, so a changed cut is never reused."""
    windows = clips.reindex(columns=["clip_id", "offset_s", "duration_s"]).astype(object)
    return json.loads(windows.where(windows.notna(), None).to_json(orient="values"))


def _shard_is_current(path: Path, stamp: str, contents: list[list]) -> bool:
    if not path.exists():
        return False
    with safe_open(path, framework="pt") as shard:
        metadata = shard.metadata() or {}
    return metadata.get("fingerprint") == stamp and json.loads(metadata.get("clips", "[]")) == contents


def _shard_index(path: Path) -> pd.DataFrame:
    with safe_open(path, framework="pt") as shard:
        keys = list(shard.keys())
        frames = [shard.get_slice(key).get_shape()[1] for key in keys]
    return pd.DataFrame({"clip_id": keys, "shard": path.name, "frames": frames})


def _empty_index() -> pd.DataFrame:
    return pd.DataFrame(
        {"clip_id": pd.Series(dtype=str), "shard": pd.Series(dtype=str), "frames": pd.Series(dtype=int)}
    )


class FeatureStore:
    """Read cached features of any clip across several corpora's caches."""

    def __init__(self, index_paths: Sequence[Path | str]) -> None:
        self._locations: dict[str, Path] = {}
        for index_path in index_paths:
            index = pd.read_parquet(index_path)
            base = Path(index_path).parent
            self._locations.update({clip: base / shard for clip, shard in zip(index["clip_id"], index["shard"])})
        self._open: dict[Path, object] = {}

    def __contains__(self, clip_id: str) -> bool:
        return clip_id in self._locations

    def __len__(self) -> int:
        return len(self._locations)

    def get(self, clip_id: str) -> torch.Tensor:
        """``[layers, frames, dim]`` in float16."""
        path = self._locations[clip_id]
        if path not in self._open:
            self._open[path] = safe_open(path, framework="pt")
        return self._open[path].get_tensor(clip_id)
