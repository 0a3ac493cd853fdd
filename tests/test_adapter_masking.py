"""The adapter reads trimmed features with a frame mask, while the papers fed it the padded
30 s window. Masking must make padding invisible; how far trimmed features are from the
padded window (and the clip window from the full one) is measured here on the tiny Whisper
and reported for the real encoder by ``scripts/bench_features.py``."""

import numpy as np
import pytest
import torch

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio_llm import pad_features
from balsa_core.backbones import load_encoder
from balsa_core.features import MAX_FRAMES, encode_waveforms


def adapter(dim: int = 32, layers: int = 2, seed: int = 0) -> QFormerAdapter:
    torch.manual_seed(seed)
    config = AdapterConfig(
        encoder_dim=dim, llm_dim=24, num_encoder_layers=layers, num_queries=4, num_heads=4, dropout=0.1
    )
    return QFormerAdapter(config).eval()


def difference(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """Relative L2 of ``a`` against ``b`` and their cosine similarity, over all values."""
    a, b = a.double().flatten(), b.double().flatten()
    return float((a - b).norm() / b.norm()), float(torch.nn.functional.cosine_similarity(a, b, dim=0))


@torch.inference_mode()
def test_masked_padding_is_invisible_whatever_it_holds():
    model = adapter()
    torch.manual_seed(1)
    clips = [torch.randn(2, frames, 32) for frames in (7, 30, 1, 18)]
    alone = torch.cat([model(clip[None]) for clip in clips])
    batch, mask = pad_features(clips)
    garbage = 1e3 * torch.randn_like(batch)
    batch = torch.where(mask[:, None, :, None], batch, garbage)
    assert torch.allclose(model(batch, mask), alone, atol=1e-6, rtol=0)
    # Longer padding, also garbage, changes nothing either.
    longer = torch.cat([batch, torch.full((4, 2, 50, 32), -7e2)], dim=2)
    longer_mask = torch.cat([mask, torch.zeros(4, 50, dtype=torch.bool)], dim=1)
    assert torch.allclose(model(longer, longer_mask), alone, atol=1e-6, rtol=0)
    # Without the mask the garbage is read: the test would catch a mask that is ignored.
    assert not torch.allclose(model(batch), alone, atol=1e-3)


@pytest.fixture(scope="module")
def tiny_encoder(tiny_whisper_dir):
    return load_encoder(str(tiny_whisper_dir))


@torch.inference_mode()
def test_trimmed_and_clip_window_differences_are_measured(tiny_encoder):
    rng = np.random.default_rng(3)
    t = np.arange(int(16000 * 3.0)) / 16000
    clips = [
        (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype("float32"),
        (0.2 * rng.standard_normal(int(16000 * 1.5))).astype("float32"),
        (0.3 * np.sign(np.sin(2 * np.pi * 3 * t[:32000])) * np.sin(2 * np.pi * 900 * t[:32000])).astype("float32"),
    ]
    layers = [1, 2]
    model = adapter()
    trimmed = encode_waveforms(*tiny_encoder, clips, layers)
    padded = encode_waveforms(*tiny_encoder, clips, layers, trim=False)
    clip_window = encode_waveforms(*tiny_encoder, clips, layers, window="clip")

    on_trimmed = model(*pad_features(trimmed))
    full_batch = torch.stack(padded)
    on_padded = model(full_batch, torch.ones(len(clips), MAX_FRAMES, dtype=torch.bool))
    on_clip_window = model(*pad_features(clip_window))

    figures = {
        "adapter: trimmed+mask vs padded window": difference(on_trimmed, on_padded),
        "adapter: clip window vs full window": difference(on_clip_window, on_trimmed),
        "features: clip window vs full window": difference(
            torch.cat([c.flatten() for c in clip_window]), torch.cat([f.flatten() for f in trimmed])
        ),
    }
    for name, (relative_l2, cosine) in figures.items():
        assert np.isfinite(relative_l2) and np.isfinite(cosine), name
        assert relative_l2 > 0, f"{name}: the two setups should not be identical"
        assert cosine > 0, name
