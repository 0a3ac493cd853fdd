import pandas as pd
import torch

from balsa_core.audio_llm import pad_features
from balsa_core.overfit import OverfitResult, overfit
from tiny_models import tiny_audio_llm


def test_the_chain_memorises_a_handful_of_clips(tiny_llm):
    # Four clips of two classes, one short target each: the tiny random LLM can only tell them
    # apart through the adapter, so distinct answers mean the audio got through.
    llm, tokenizer = tiny_llm
    torch.manual_seed(0)
    prototypes = [torch.randn(2, 8, 32) for _ in range(2)]
    features = {f"clip{i}": prototypes[i % 2] + 0.1 * torch.randn(2, 8, 32) for i in range(4)}
    targets = {f"clip{i}": ("rain", "siren")[i % 2] for i in range(4)}
    embedding_rms = float(llm.get_input_embeddings().weight.detach().pow(2).mean().sqrt())
    model = tiny_audio_llm(llm, tokenizer, dropout=0.0, output_rms=embedding_rms)
    model.adapter.initialise_center(*pad_features(list(features.values())))  # as the pipeline starts it
    result = overfit(model, features, targets, "Describe the audio.", steps=120, learning_rate=1e-2, target_loss=2.0)
    assert result.losses[-1] < result.losses[0] - 4.0
    assert result.steps_to_target is not None
    # Clips of one class share an answer, the two classes differ, and each names its class.
    answers = result.answers
    assert answers["clip0"] == answers["clip2"] != answers["clip1"] == answers["clip3"], answers
    assert result.passed, answers


def test_result_properties_by_hand():
    result = OverfitResult(
        history=pd.DataFrame({"loss": [2.0, 0.5, 0.04, 0.01]}),
        answers={"a": "Rain falls", "b": "rain"},
        targets={"a": "rain", "b": "siren"},
        target_loss=0.05,
        held_out_answers={"c": "a siren"},
        held_out_targets={"c": "siren"},
    )
    assert result.steps_to_target == 3
    assert result.named == ["a"]
    assert result.held_out_named == ["c"]
    assert not result.passed
