import math

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from balsa_core.backbones import load_encoder
from balsa_core.features import FeatureStore, cache_features, frames_for


@pytest.fixture(scope="module")
def encoder(tiny_whisper_dir):
    return load_encoder(str(tiny_whisper_dir))


def write_clips(directory, seconds=(1.0, 2.5, 0.4)) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i, duration in enumerate(seconds):
        path = directory / f"clip{i}.wav"
        sf.write(path, 0.1 * rng.standard_normal(int(16000 * duration)).astype("float32"), 16000)
        rows.append({"clip_id": f"demo/clip{i}", "audio_path": str(path)})
    return pd.DataFrame(rows)


def test_frames_follow_whisper_50_per_second():
    assert frames_for(16000) == 50
    assert frames_for(16001) == 51
    assert frames_for(16000 * 60) == 1500


def test_cache_trims_each_clip_and_stores_fp16(encoder, tmp_path):
    clips = write_clips(tmp_path)
    index = cache_features(clips, *encoder, layers=[1, 2], out_dir=tmp_path / "cache", fingerprint={}, shard_size=2)
    assert sorted(index["shard"].unique()) == ["shard-00000.safetensors", "shard-00001.safetensors"]
    store = FeatureStore([tmp_path / "cache" / "index.parquet"])
    hidden = store.get("demo/clip1")
    assert hidden.shape == (2, math.ceil(2.5 * 50), 32)
    assert str(hidden.dtype) == "torch.float16"
    assert len(store) == 3


def test_rerun_keeps_finished_shards_unless_settings_change(encoder, tmp_path):
    clips = write_clips(tmp_path)
    out = tmp_path / "cache"
    cache_features(clips, *encoder, layers=[1], out_dir=out, fingerprint={"encoder": "a"}, shard_size=2)
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*")}
    cache_features(clips, *encoder, layers=[1], out_dir=out, fingerprint={"encoder": "a"}, shard_size=2)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*")} == first
    cache_features(clips, *encoder, layers=[1, 2], out_dir=out, fingerprint={"encoder": "a"}, shard_size=2)
    assert all(p.stat().st_mtime_ns != first[p.name] for p in out.glob("shard-*"))
    assert FeatureStore([out / "index.parquet"]).get("demo/clip0").shape[0] == 2


def test_corrupt_audio_is_reported_and_skipped(encoder, tmp_path, caplog):
    clips = write_clips(tmp_path)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wav")
    clips.loc[len(clips)] = {"clip_id": "demo/broken", "audio_path": str(tmp_path / "broken.wav")}
    index = cache_features(clips, *encoder, layers=[1], out_dir=tmp_path / "cache", fingerprint={})
    assert "demo/broken" not in set(index["clip_id"])
    assert len(index) == 3
    assert "skipping demo/broken" in caplog.text
