import pytest
import torch

from balsa_core.adapter import AdapterConfig, QFormerAdapter, count_parameters


def tiny_config(**overrides) -> AdapterConfig:
    settings = dict(encoder_dim=32, llm_dim=48, num_encoder_layers=3, num_queries=4, num_heads=4, dropout=0.0)
    return AdapterConfig(**{**settings, **overrides})


def test_paper_dimensions_give_about_22m_parameters():
    # whisper-small (768) -> Llama-3.1-8B (4096), 2 layers, 64 queries: the papers report ~22M.
    paper = AdapterConfig(encoder_dim=768, llm_dim=4096, num_encoder_layers=3, num_queries=64, num_layers=2)
    assert 21.5e6 < count_parameters(paper) < 22.5e6


def test_count_matches_a_built_adapter():
    config = tiny_config()
    assert count_parameters(config) == sum(p.numel() for p in QFormerAdapter(config).parameters())


def test_output_shape_and_equal_initial_layer_weights():
    adapter = QFormerAdapter(tiny_config())
    out = adapter(torch.randn(2, 3, 10, 32))
    assert out.shape == (2, 4, 48)
    assert torch.allclose(torch.softmax(adapter.layer_weights, 0), torch.full((3,), 1 / 3))


def test_masked_padding_changes_nothing():
    # A clip's output must not depend on the padding that batching adds after it.
    torch.manual_seed(0)
    adapter = QFormerAdapter(tiny_config()).eval()
    clip = torch.randn(1, 3, 7, 32)
    padded = torch.cat([clip, torch.randn(1, 3, 5, 32)], dim=2)
    mask = torch.tensor([[True] * 7 + [False] * 5])
    torch.testing.assert_close(adapter(clip), adapter(padded, mask), atol=1e-5, rtol=1e-5)


def test_wrong_layer_count_is_refused():
    with pytest.raises(ValueError, match="expected 3 encoder layers, got 2"):
        QFormerAdapter(tiny_config())(torch.randn(1, 2, 5, 32))


def test_heads_must_divide_the_encoder_dim():
    with pytest.raises(ValueError, match="num_heads=5"):
        QFormerAdapter(tiny_config(num_heads=5))


def test_each_encoder_layer_is_normalised_before_cross_attention():
    # Scaling or shifting one layer's frames as a whole changes nothing: its LayerNorm removes it.
    torch.manual_seed(0)
    adapter = QFormerAdapter(tiny_config()).eval()
    features = torch.randn(2, 3, 10, 32)
    rescaled = features.clone()
    rescaled[:, 1] = 40.0 * rescaled[:, 1] + 3.0
    torch.testing.assert_close(adapter(features), adapter(rescaled), atol=1e-4, rtol=1e-4)


def test_outputs_start_at_the_llm_embedding_scale():
    torch.manual_seed(0)
    adapter = QFormerAdapter(tiny_config(llm_dim=256, output_rms=0.05)).eval()
    rms = adapter(torch.randn(8, 3, 10, 32)).pow(2).mean().sqrt().item()
    assert rms == pytest.approx(0.05, rel=0.15)


def test_initialise_center_starts_the_outputs_centred_at_the_embedding_scale():
    torch.manual_seed(0)
    adapter = QFormerAdapter(tiny_config(output_rms=0.05))
    clips = torch.randn(6, 3, 10, 32) + 3.0  # a large component every clip shares
    adapter.initialise_center(clips)
    outputs = adapter.eval()(clips)
    assert torch.allclose(outputs.mean(dim=0), torch.zeros(4, 48), atol=1e-5)
    assert outputs.pow(2).mean().sqrt().item() == pytest.approx(0.05, rel=1e-4)
    assert "center" in adapter.state_dict(), "saved with the weights"


def test_moving_the_center_keeps_the_function_and_follows_the_step_mean():
    torch.manual_seed(0)
    adapter = QFormerAdapter(tiny_config(center_momentum=0.25))
    clips = torch.randn(4, 3, 10, 32)
    before = adapter.eval()(clips)
    adapter.train()
    adapter(clips[:1])
    adapter(clips[1:])  # two micro batches of one optimizer step
    mean = adapter.eval().pooled(clips).mean(dim=0)
    adapter.update_center()
    torch.testing.assert_close(adapter.center, 0.25 * mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(adapter(clips), before, atol=1e-5, rtol=0)
    center = adapter.center.clone()
    adapter.update_center()  # nothing seen since: no move
    assert torch.equal(adapter.center, center)
