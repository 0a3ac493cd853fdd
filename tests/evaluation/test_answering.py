"""Asking evaluation prompts: the audio model with cached features, the backbone with clip descriptions."""

from __future__ import annotations

import pytest
import torch

from balsa_core.audio_llm import Example
from balsa_core.evaluation.answering import answer_with_audio, answer_with_text
from balsa_core.generation import Completion, SamplingSettings
from balsa_core.prompts import PromptTemplate


class RecordingBackend:
    """Answers each message with its index; keeps the messages and settings it was called with."""

    model_name = "recording"
    identity = {"type": "recording"}

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], SamplingSettings]] = []

    def generate(self, user_messages, settings):
        self.calls.append((list(user_messages), settings))
        return [Completion(text=f"reply {index}", num_tokens=2, finished=True) for index in range(len(user_messages))]


def test_answer_with_text_puts_the_description_in_the_audio_span() -> None:
    backend = RecordingBackend()
    template = PromptTemplate(begin_audio="<audio>", end_audio="</audio>")
    replies = answer_with_text(
        backend, template, ["dog, bark", "A car passes by."], ["Is there a dog?", "What passes?"], max_new_tokens=17
    )
    assert replies == ["reply 0", "reply 1"]
    assert len(backend.calls) == 1
    messages, settings = backend.calls[0]
    assert messages == [
        "<audio> dog, bark </audio> Is there a dog?",
        "<audio> A car passes by. </audio> What passes?",
    ]
    assert settings.max_new_tokens == 17
    assert settings.temperature == 0.0
    assert settings.top_p == 1.0


def test_answer_with_text_uses_the_default_markers() -> None:
    backend = RecordingBackend()
    answer_with_text(backend, PromptTemplate(), ["rain"], ["What is it?"], max_new_tokens=5)
    assert backend.calls[0][0] == ["[Begin of audio] rain [End of audio] What is it?"]


def test_answer_with_text_needs_one_description_per_prompt() -> None:
    backend = RecordingBackend()
    with pytest.raises(ValueError, match="2 descriptions for 1 prompts"):
        answer_with_text(backend, PromptTemplate(), ["a", "b"], ["q"], max_new_tokens=5)
    assert backend.calls == []


class FakeStore:
    """Features per clip id: a tensor filled with the clip's number."""

    def __init__(self, clip_ids: list[str]) -> None:
        self.tensors = {clip_id: torch.full((2, 3, 4), float(index)) for index, clip_id in enumerate(clip_ids)}
        self.requested: list[str] = []

    def get(self, clip_id: str) -> torch.Tensor:
        self.requested.append(clip_id)
        return self.tensors[clip_id]


class FakeModel:
    """Records each batch; replies with the prompt and the feature value it was given."""

    def __init__(self) -> None:
        self.batches: list[list[Example]] = []
        self.max_new_tokens: list[int] = []

    def generate_batch(self, examples, max_new_tokens):
        self.batches.append(list(examples))
        self.max_new_tokens.append(max_new_tokens)
        return [f"{example.instruction}@{int(example.features[0][0, 0, 0])}" for example in examples]


def test_answer_with_audio_batches_and_pairs_features_with_prompts() -> None:
    clip_ids = ["c0", "c1", "c2", "c1", "c3"]
    prompts = [f"question {index}" for index in range(5)]
    store = FakeStore(["c0", "c1", "c2", "c3"])
    model = FakeModel()
    replies = answer_with_audio(model, clip_ids, prompts, store, batch_size=2, max_new_tokens=9)
    assert [len(batch) for batch in model.batches] == [2, 2, 1]
    assert model.max_new_tokens == [9, 9, 9]
    assert store.requested == clip_ids
    examples = [example for batch in model.batches for example in batch]
    for example, clip_id, prompt in zip(examples, clip_ids, prompts):
        assert example.instruction == prompt
        assert len(example.features) == 1
        assert example.features[0] is store.tensors[clip_id]
        assert example.target is None
    assert replies == ["question 0@0", "question 1@1", "question 2@2", "question 3@1", "question 4@3"]


def test_answer_with_audio_in_one_batch_and_with_no_prompts() -> None:
    store = FakeStore(["a", "b"])
    model = FakeModel()
    assert answer_with_audio(model, ["a", "b"], ["p", "q"], store, batch_size=8, max_new_tokens=3) == ["p@0", "q@1"]
    assert len(model.batches) == 1
    assert answer_with_audio(model, [], [], store, batch_size=8, max_new_tokens=3) == []
    assert len(model.batches) == 1


def test_answer_with_audio_needs_one_clip_per_prompt() -> None:
    model = FakeModel()
    with pytest.raises(ValueError, match="1 clips for 2 prompts"):
        answer_with_audio(model, ["a"], ["p", "q"], FakeStore(["a"]), batch_size=2, max_new_tokens=3)
    assert model.batches == []
