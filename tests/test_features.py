import json
import math

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from safetensors import safe_open

import balsa_core.features as features_module
from balsa_core.backbones import load_encoder
from balsa_core.features import FeatureStore, cache_features, encode_waveforms, encoder_hidden_states, frames_for


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


def waveforms(seconds=(1.0, 2.5, 0.4), seed=1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [0.1 * rng.standard_normal(int(16000 * s)).astype("float32") for s in seconds]


def test_explicit_forward_equals_transformers_hidden_states(encoder):
    model, feature_extractor = encoder
    features = feature_extractor(waveforms(), sampling_rate=16000, return_tensors="pt")["input_features"]
    with torch.inference_mode():
        reference = model(features, output_hidden_states=True).hidden_states
        every = encoder_hidden_states(model, features, range(len(reference)))
        assert len(reference) == len(model.layers) + 1
        for layer in range(len(reference)):
            assert (every[:, layer] - reference[layer]).abs().max() < 1e-5, layer
            # Stopping at the layer gives the same values as running the whole encoder.
            alone = encoder_hidden_states(model, features, [layer])[:, 0]
            assert (alone - reference[layer]).abs().max() < 1e-5, layer
        # The last hidden state has the final layer norm, as transformers returns it.
        assert (every[:, -1] - reference[-1]).abs().max() < 1e-5
        assert torch.equal(encoder_hidden_states(model, features, [-1]), every[:, -1:])


def test_default_encoding_is_the_full_window_trimmed(encoder):
    model, feature_extractor = encoder
    clips = waveforms()
    features = feature_extractor(clips, sampling_rate=16000, return_tensors="pt")["input_features"]
    with torch.inference_mode():
        reference = model(features, output_hidden_states=True).hidden_states
    hidden = encode_waveforms(model, feature_extractor, clips, [1, 2])
    for i, clip in enumerate(clips):
        frames = frames_for(len(clip))
        expected = torch.stack([reference[1][i, :frames], reference[2][i, :frames]])
        assert hidden[i].shape == (2, frames, 32)
        assert (hidden[i] - expected).abs().max() < 1e-5


def test_layers_beyond_the_encoder_are_rejected(encoder):
    with pytest.raises(ValueError, match="only 3 hidden states"):
        encode_waveforms(*encoder, waveforms(), [1, 3])


def test_untrimmed_features_keep_the_whole_window(encoder):
    hidden = encode_waveforms(*encoder, waveforms(), [2], trim=False)
    trimmed = encode_waveforms(*encoder, waveforms(), [2])
    assert [h.shape for h in hidden] == [(1, 1500, 32)] * 3
    for full, short in zip(hidden, trimmed):
        assert torch.equal(full[:, : short.shape[1]], short)
    with pytest.raises(ValueError, match="window='full'"):
        encode_waveforms(*encoder, waveforms(), [2], window="clip", trim=False)
    with pytest.raises(ValueError, match="window must be one of"):
        encode_waveforms(*encoder, waveforms(), [2], window="30s")


def test_clip_window_cuts_the_log_mel_of_the_full_window(encoder):
    _, feature_extractor = encoder
    clips = waveforms()
    full = feature_extractor(clips, sampling_rate=16000, return_tensors="pt")["input_features"]
    mel_frames = 2 * frames_for(len(clips[1]))
    samples = mel_frames * feature_extractor.hop_length + feature_extractor.n_fft
    cut = feature_extractor(clips, sampling_rate=16000, return_tensors="pt", max_length=samples)["input_features"]
    assert torch.allclose(cut[..., :mel_frames], full[..., :mel_frames], atol=1e-6)


def test_clip_window_encodes_each_clip_alone_and_trims_it(encoder):
    clips = waveforms()
    batched = encode_waveforms(*encoder, clips, [0, 2], window="clip")
    full = encode_waveforms(*encoder, clips, [0, 2])
    for clip, hidden, padded in zip(clips, batched, full):
        assert hidden.shape == padded.shape == (2, frames_for(len(clip)), 32)
        # A shorter clip in the batch is masked to its own frames: the same as encoding it alone.
        alone = encode_waveforms(*encoder, [clip], [0, 2], window="clip")[0]
        assert (hidden - alone).abs().max() < 1e-4
        # The embeddings (layer 0) do not attend, so only the convolutions' right edge can differ.
        assert torch.allclose(hidden[0, :-1], padded[0, :-1], atol=1e-5)
    # Attention over Whisper's padding changes the later layers of the full window.
    assert not torch.allclose(batched[1][1], full[1][1], atol=1e-3)


def test_clip_window_batches_clips_of_similar_length(encoder, tmp_path, monkeypatch):
    clips = write_clips(tmp_path, seconds=(1.0, 2.5, 0.4, 2.4, 0.5, 1.1))
    batches = []
    original = features_module.encode_waveforms

    def recording(encoder, feature_extractor, waves, layers, **options):
        batches.append(sorted(round(len(w) / 16000, 1) for w in waves))
        return original(encoder, feature_extractor, waves, layers, **options)

    monkeypatch.setattr(features_module, "encode_waveforms", recording)
    index = cache_features(
        clips, *encoder, layers=[1], out_dir=tmp_path / "cache", fingerprint={}, batch_size=2, window="clip"
    )
    assert batches == [[0.4, 0.5], [1.0, 1.1], [2.4, 2.5]]
    expected = {f"demo/clip{i}": frames_for(int(16000 * s)) for i, s in enumerate((1.0, 2.5, 0.4, 2.4, 0.5, 1.1))}
    assert dict(zip(index["clip_id"], index["frames"])) == expected


def test_window_and_trim_are_part_of_the_fingerprint(encoder, tmp_path):
    clips = write_clips(tmp_path)
    out = tmp_path / "cache"

    def run(**options):
        cache_features(clips, *encoder, layers=[1], out_dir=out, fingerprint={"encoder": "a"}, **options)
        shard = out / "shard-00000.safetensors"
        with safe_open(shard, framework="pt") as opened:
            return shard.stat().st_mtime_ns, json.loads(opened.metadata()["fingerprint"])

    written, stamp = run()
    # The original settings keep the fingerprint of caches written before the options existed.
    assert stamp == {"encoder": "a", "layers": [1]}
    assert run(window="full", trim=True)[0] == written
    clip_written, stamp = run(window="clip")
    assert clip_written != written and stamp["window"] == "clip"
    assert run(window="clip")[0] == clip_written
    untrimmed, stamp = run(trim=False)
    assert untrimmed != clip_written and stamp["trim"] is False
    assert set(pd.read_parquet(out / "index.parquet")["frames"]) == {1500}
    assert run()[0] != untrimmed
    with pytest.raises(ValueError, match="window='full'"):
        cache_features(clips, *encoder, layers=[1], out_dir=out, fingerprint={}, window="clip", trim=False)
