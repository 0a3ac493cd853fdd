import pandas as pd
import pytest
import torch

from balsa_core.training import LOG_COLUMNS, TrainingConfig, learning_rate_at, select_training_targets, train_adapter
from tiny_models import replay_training_set, tiny_audio_llm


def test_warmup_then_cosine():
    rates = [learning_rate_at(step, total_steps=20, warmup_steps=4, peak=1.0) for step in range(20)]
    assert rates[:4] == [0.25, 0.5, 0.75, 1.0]
    assert rates[4] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[4:], rates[5:])), "cosine decays monotonically"
    assert rates[-1] < 0.02


def targets_frame(seeds: int) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        for kind, samples in (("positive", 2), ("negative", 1)):
            for sample in range(samples):
                rows.append(
                    {
                        "target_id": f"s{seed}|{kind}|{sample}",
                        "clip_ids": [f"c{seed}"],
                        "split": "train",
                        "target_set": kind,
                        "sample_index": sample,
                        "target": f"text {seed}",
                        "instruction": kind,
                    }
                )
    rows.append({**rows[0], "target_id": "test|positive|0", "split": "test"})
    return pd.DataFrame(rows)


def test_both_ablation_variants_have_2n_samples():
    targets = targets_frame(seeds=5)
    positive_only = select_training_targets(targets, {"positive": 2})
    positive_negative = select_training_targets(targets, {"positive": 1, "negative": 1})
    assert len(positive_only) == len(positive_negative) == 10
    assert set(positive_negative["target_set"]) == {"positive", "negative"}
    assert (positive_only["split"] == "train").all()


class DictStore(dict):
    get = dict.__getitem__


def clip_features(clips: int) -> DictStore:
    """Random fp16 features of ``clips`` clips, each a frame longer than the one before."""
    return DictStore({f"clip{i}": torch.randn(2, 6 + i, 32).half() for i in range(clips)})


def test_training_fits_a_small_set(tiny_llm):
    torch.manual_seed(0)
    features = clip_features(4)
    training_set = replay_training_set(features, ["a siren wails", "rain falls", "a dog barks", "birds chirp"])
    model = tiny_audio_llm(*tiny_llm, dropout=0.0)
    history = train_adapter(
        model,
        training_set,
        features,
        TrainingConfig(epochs=40, learning_rate=3e-3, micro_batch_size=2, global_batch_size=4, warmup_steps=2),
    )
    assert len(history) == 40
    # Only the audio slots can move; half a nat off the target loss means they learned.
    assert history["loss"].iloc[-5:].mean() < history["loss"].iloc[:5].mean() - 0.5
    assert not model.training


def test_the_log_has_validation_loss_and_collapse_monitor_when_due(tiny_llm):
    torch.manual_seed(0)
    features = clip_features(6)
    table = replay_training_set(
        features, ["a siren wails", "rain falls", "a dog barks", "birds chirp", "an engine", "a bell"]
    )
    model = tiny_audio_llm(*tiny_llm)
    history = train_adapter(
        model,
        table.iloc[:4],
        features,
        TrainingConfig(epochs=5, micro_batch_size=2, global_batch_size=4, warmup_steps=1, eval_every=2, probe_clips=3),
        validation_set=table.iloc[4:],
    )
    measured = history.dropna(subset=["val_loss"])
    # Every second step and the last one.
    assert measured["step"].tolist() == [2, 4, 5]
    assert history["probe_spread"].notna().tolist() == history["val_loss"].notna().tolist()
    assert (measured["probe_spread"] > 0).all() and (measured["probe_norm_ratio"] > 0).all()
    assert list(history.columns) == LOG_COLUMNS
    assert LOG_COLUMNS[-3:] == ["val_loss", "probe_spread", "probe_norm_ratio"]
