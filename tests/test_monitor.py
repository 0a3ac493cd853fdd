import pandas as pd
import pytest
import torch

from balsa_core.audio_llm import Example
from balsa_core.monitor import norm_ratio, output_spread, probe_stats, validation_loss
from balsa_core.training import probe_clip_ids, split_validation
from tiny_models import tiny_audio_llm


def test_spread_is_zero_for_identical_outputs_and_scale_free():
    same = torch.ones(4, 2, 3).expand(4, 2, 3)
    assert output_spread(same) == 0.0
    outputs = torch.randn(5, 2, 3)
    assert output_spread(outputs) == pytest.approx(output_spread(7.0 * outputs), rel=1e-5)


def test_spread_by_hand():
    # Two clips, one value each: 1 and 3. Mean 2; each is 1 away; mean norm 2 -> spread 0.5.
    assert output_spread(torch.tensor([[[1.0]], [[3.0]]])) == pytest.approx(0.5)


def test_spread_needs_two_clips():
    with pytest.raises(ValueError, match="two clips"):
        output_spread(torch.randn(1, 2, 3))


def test_norm_ratio_by_hand():
    outputs = torch.tensor([[[3.0, 4.0]]])  # norm 5
    embeddings = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # norm 1
    assert norm_ratio(outputs, embeddings) == pytest.approx(5.0)


@pytest.fixture
def audio_llm(tiny_llm):
    torch.manual_seed(0)
    return tiny_audio_llm(*tiny_llm)


def test_probe_and_validation_leave_the_mode_and_the_random_state_alone(audio_llm):
    model = audio_llm.train()
    probe = [torch.randn(2, 5 + i, 32) for i in range(3)]
    examples = [Example(features=[clip], instruction="Replay the audio.", target="rain") for clip in probe]
    state = torch.get_rng_state()
    stats = probe_stats(model, probe)
    first = validation_loss(model, examples, micro_batch_size=2)
    assert validation_loss(model, examples, micro_batch_size=3) == pytest.approx(first, rel=1e-5)
    assert torch.equal(torch.get_rng_state(), state)
    assert model.adapter.training
    assert stats.spread > 0 and stats.norm_ratio > 0


def training_targets(clips: int) -> pd.DataFrame:
    rows = [
        {"target_id": f"c{i}|{kind}", "clip_ids": [f"c{i}"], "target": kind}
        for i in range(clips)
        for kind in ("positive", "negative")
    ]
    rows.append({"target_id": "pair", "clip_ids": ["c0", "c1"], "target": "difference"})
    return pd.DataFrame(rows)


def test_validation_holds_out_whole_clips_seeded():
    targets = training_targets(20)
    train, validation = split_validation(targets, 0.2, seed=3)
    held_out = {clip for clips in validation["clip_ids"] for clip in clips}
    assert {clip for clips in train["clip_ids"] for clip in clips}.isdisjoint(held_out)
    assert len(train) + len(validation) == len(targets)
    # Every target of a held-out clip is validation, pairs included.
    assert validation["clip_ids"].map(len).eq(1).sum() == 2 * 4
    again, _ = split_validation(targets, 0.2, seed=3)
    other, _ = split_validation(targets, 0.2, seed=4)
    assert again.equals(train)
    assert not other.equals(train)


def test_no_validation_fraction_keeps_every_target():
    targets = training_targets(5)
    train, validation = split_validation(targets, 0.0, seed=0)
    assert train.equals(targets) and validation.empty


def test_bad_validation_fraction_is_refused():
    with pytest.raises(ValueError, match="validation_fraction"):
        split_validation(training_targets(3), 1.0, seed=0)


def test_probe_clips_are_spread_over_the_sorted_clips():
    targets = training_targets(10)
    assert probe_clip_ids(targets, 3) == ["c0", "c4", "c9"]
    assert probe_clip_ids(targets, 50) == sorted(f"c{i}" for i in range(10))
    assert probe_clip_ids(training_targets(1).iloc[:2], 4) == []
