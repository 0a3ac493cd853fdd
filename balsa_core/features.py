"""Cache of the frozen Whisper encoder's hidden states, the only audio input the adapter sees.

Per clip we keep the configured hidden-state layers, trimmed to the clip's real length
(Whisper emits 50 frames per second of a 30 s window) and stored in float16: the padded
remainder carries no information and would make the cache up to 10x larger.

The encoder runs only up to the deepest configured layer (``encoder_hidden_states``, an
explicit forward over the encoder's modules giving the same values as transformers'
``output_hidden_states``). Two encoder windows:

* ``window="full"`` (default, the papers' setup): every clip is padded to Whisper's 30 s
  window, so its frames also attend over the padding;
* ``window="clip"``: each clip is encoded as if alone in a window of its own length
  (rounded up to 20 ms): the log-mel features and positional embeddings are cut to the
  batch's longest clip, and shorter clips in the batch are masked to their own frames, so
  a clip's features do not depend on its batch. Much faster for short clips, but the
  features differ from the full window's. Clips of a shard are sorted by duration so a
  batch wastes few frames.

``trim=False`` keeps all 1500 frames of the full window instead of the clip's frames.

Layout: ``<dir>/shard-00000.safetensors`` ... (tensors ``[layers, frames, dim]`` keyed by
clip id) and ``<dir>/index.parquet`` (clip id -> shard, frames). Shards are written under a
temporary name and renamed, and carry a fingerprint of what produced them (encoder, layers,
window, trimming), so an interrupted run resumes by keeping only finished shards made with
the same settings.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from balsa_core.audio import AudioError, clip_window, load_audio, probe_audio

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAMES_PER_SECOND = 50
MAX_FRAMES = 1500  # 30 s, Whisper's fixed input window
INDEX_NAME = "index.parquet"
WINDOWS = ("full", "clip")  # the encoder's input: the padded 30 s window, or the clip alone


def frames_for(num_samples: int) -> int:
    return max(1, min(MAX_FRAMES, math.ceil(num_samples * FRAMES_PER_SECOND / SAMPLE_RATE)))


def _check_options(window: str, trim: bool) -> None:
    if window not in WINDOWS:
        raise ValueError(f"features.window must be one of {list(WINDOWS)}, got {window!r}")
    if not trim and window != "full":
        raise ValueError("features.trim=false keeps the padded 30 s window, so it needs features.window='full'")


def _resolve_layers(layers: Sequence[int], num_layers: int) -> list[int]:
    """Hidden-state indices (0 = embeddings, i = output of layer i; negative from the end)."""
    count = num_layers + 1
    if not layers or any(not -count <= layer < count for layer in layers):
        raise ValueError(f"features.layers {list(layers)}: the encoder has only {count} hidden states")
    return [layer % count for layer in layers]


def encoder_hidden_states(
    encoder: torch.nn.Module,
    input_features: torch.Tensor,
    layers: Sequence[int],
    frame_lengths: Sequence[int] | None = None,
) -> torch.Tensor:
    """Hidden states ``[B, len(layers), T, D]`` of a WhisperEncoder, running it only up to the
    deepest of ``layers``.

    Values are those of ``encoder(input_features, output_hidden_states=True).hidden_states[layer]``:
    index 0 is the input of the first layer (convolutions + positional embeddings), index i the
    output of layer i, and the last index has the encoder's final layer norm applied, as in
    transformers. ``input_features [B, mel_bins, M]`` may be shorter than the 30 s window
    (``M`` even, ``T = M / 2``): the positional embeddings are cut to match.
    ``frame_lengths`` (output frames per clip) confines each clip to its own frames, as if it
    were encoded alone in a window of ``2 * frame_lengths[i]`` mel frames: its later mel frames
    are zeroed (the convolution's own padding) and attention ignores its later frames.
    """
    wanted = _resolve_layers(layers, len(encoder.layers))
    mel_frames = input_features.shape[-1]
    frames = mel_frames // 2
    if mel_frames % 2 or not 0 < frames <= encoder.embed_positions.num_embeddings:
        raise ValueError(f"the encoder takes an even number of mel frames up to the 30 s window, got {mel_frames}")
    mask = None
    if frame_lengths is not None:
        lengths = torch.as_tensor(frame_lengths, device=input_features.device)[:, None]
        mel_keep = torch.arange(mel_frames, device=input_features.device) < 2 * lengths
        input_features = input_features * mel_keep[:, None, :].to(input_features.dtype)
        frame_keep = torch.arange(frames, device=input_features.device) < lengths
        # Additive [B, 1, 1, T] mask, as both the eager and the SDPA attention of transformers take it.
        mask = torch.zeros(frame_keep.shape, dtype=input_features.dtype, device=input_features.device)
        mask = mask.masked_fill(~frame_keep, torch.finfo(input_features.dtype).min)[:, None, None, :]

    gelu = torch.nn.functional.gelu
    hidden = gelu(encoder.conv2(gelu(encoder.conv1(input_features)))).permute(0, 2, 1)
    hidden = hidden + encoder.embed_positions.weight[:frames]
    hidden = torch.nn.functional.dropout(hidden, p=encoder.dropout, training=encoder.training)
    states = {0: hidden}
    num_layers = len(encoder.layers)
    for index, layer in enumerate(encoder.layers[: max(wanted)], start=1):
        hidden = layer(hidden, mask)
        states[index] = encoder.layer_norm(hidden) if index == num_layers else hidden
    return torch.stack([states[layer] for layer in wanted], dim=1)


@torch.inference_mode()
def encode_waveforms(
    encoder: torch.nn.Module,
    feature_extractor,
    waveforms: Sequence[np.ndarray],
    layers: Sequence[int],
    *,
    window: str = "full",
    trim: bool = True,
) -> list[torch.Tensor]:
    """Hidden states ``[len(layers), frames, dim]`` per waveform: trimmed to its length (50 frames
    per second), or all 1500 frames of the 30 s window with ``trim=False``. ``window`` is the
    encoder's input: ``"full"`` pads every clip to 30 s, ``"clip"`` encodes each clip alone in a
    window of its own length (see the module docstring)."""
    _check_options(window, trim)
    _resolve_layers(layers, len(encoder.layers))
    lengths = [frames_for(len(w)) for w in waveforms]
    parameter = next(encoder.parameters())
    dtype, device = parameter.dtype, parameter.device
    if window == "full":
        inputs = feature_extractor(list(waveforms), sampling_rate=SAMPLE_RATE, return_tensors="pt")
        hidden = encoder_hidden_states(encoder, inputs["input_features"].to(device=device, dtype=dtype), layers)
    else:
        mel_frames = 2 * max(lengths)
        # Zero padding past the frames we keep, so the STFT never reflects the signal into them:
        # the cut log-mel frames equal those of the 30 s window.
        samples = min(feature_extractor.n_samples, mel_frames * feature_extractor.hop_length + feature_extractor.n_fft)
        inputs = feature_extractor(list(waveforms), sampling_rate=SAMPLE_RATE, return_tensors="pt", max_length=samples)
        features = inputs["input_features"][..., :mel_frames].to(device=device, dtype=dtype)
        hidden = encoder_hidden_states(encoder, features, layers, lengths if len(set(lengths)) > 1 else None)
    if not trim:
        return list(hidden.unbind(0))
    return [hidden[i, :, :length].contiguous() for i, length in enumerate(lengths)]


def _fingerprint_stamp(fingerprint: dict, layers: Sequence[int], window: str, trim: bool) -> str:
    # Only options away from the original setup are added, so caches written before they
    # existed (full window, trimmed) stay valid.
    stamp = {**fingerprint, "layers": list(layers)}
    if window != "full":
        stamp["window"] = window
    if not trim:
        stamp["trim"] = False
    return json.dumps(stamp, sort_keys=True)


def cache_features(
    clips: pd.DataFrame,
    encoder: torch.nn.Module,
    feature_extractor,
    layers: Sequence[int],
    out_dir: Path,
    fingerprint: dict,
    batch_size: int = 16,
    shard_size: int = 256,
    *,
    window: str = "full",
    trim: bool = True,
) -> pd.DataFrame:
    """Encode every clip into shards and return the index. ``clips`` has ``clip_id`` and
    ``audio_path``, and optionally the window ``offset_s``/``duration_s`` of the file.
    ``window`` and ``trim`` as in ``encode_waveforms``; both are part of the shards' fingerprint."""
    _check_options(window, trim)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = clips.drop_duplicates("clip_id").sort_values("clip_id").reset_index(drop=True)
    stamp = _fingerprint_stamp(fingerprint, layers, window, trim)
    encoding = {"layers": layers, "window": window, "trim": trim}
    index_parts, started = [], time.perf_counter()
    for shard_number, start in enumerate(range(0, len(clips), shard_size)):
        shard_clips = clips.iloc[start : start + shard_size]
        shard_path = out_dir / f"shard-{shard_number:05d}.safetensors"
        if not _shard_is_current(shard_path, stamp, _shard_contents(shard_clips)):
            _write_shard(shard_path, shard_clips, encoder, feature_extractor, encoding, stamp, batch_size)
        index_parts.append(_shard_index(shard_path))
        done = start + len(shard_clips)
        log.info("features: %d/%d clips (%.1f clips/s)", done, len(clips), done / (time.perf_counter() - started))
    index = pd.concat(index_parts, ignore_index=True) if index_parts else _empty_index()
    index.to_parquet(out_dir / INDEX_NAME, index=False)
    return index


def _expected_seconds(clip: dict) -> float:
    """The clip's duration without decoding it (0 for unreadable audio, skipped later)."""
    offset, duration = clip_window(clip.get("offset_s"), clip.get("duration_s"))
    try:
        available = probe_audio(clip["audio_path"]).duration_s - offset
    except AudioError:
        return 0.0
    return max(0.0, available if duration is None else min(duration, available))


def _by_duration(clips: pd.DataFrame) -> pd.DataFrame:
    """Clips of similar length next to each other, so a clip-window batch wastes few frames."""
    seconds = [_expected_seconds(clip) for clip in clips.to_dict("records")]
    return clips.iloc[sorted(range(len(clips)), key=lambda i: (seconds[i], i))]


def _write_shard(
    path: Path, clips: pd.DataFrame, encoder, feature_extractor, encoding: dict, stamp: str, batch_size: int
) -> None:
    tensors: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    ordered = _by_duration(clips) if encoding["window"] == "clip" else clips
    for start in range(0, len(ordered), batch_size):
        batch = ordered.iloc[start : start + batch_size]
        waveforms, ids = [], []
        for clip in batch.to_dict("records"):
            offset, duration = clip_window(clip.get("offset_s"), clip.get("duration_s"))
            try:
                waveforms.append(load_audio(clip["audio_path"], SAMPLE_RATE, offset_s=offset, duration_s=duration))
                ids.append(clip["clip_id"])
            except AudioError as error:
                log.warning("features: skipping %s: %s", clip["clip_id"], error)
                skipped.append(clip["clip_id"])
        if waveforms:
            for clip_id, hidden in zip(ids, encode_waveforms(encoder, feature_extractor, waveforms, **encoding)):
                tensors[clip_id] = hidden.to(device="cpu", dtype=torch.float16)
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

    def __iter__(self) -> Iterator[str]:
        """The cached clips' ids."""
        return iter(self._locations)

    def get(self, clip_id: str) -> torch.Tensor:
        """``[layers, frames, dim]`` in float16."""
        path = self._locations[clip_id]
        if path not in self._open:
            self._open[path] = safe_open(path, framework="pt")
        return self._open[path].get_tensor(clip_id)
