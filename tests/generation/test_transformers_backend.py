"""The Transformers backend on the tiny LLM: batched greedy answers equal single ones, seeded sampling repeats."""

from __future__ import annotations

import pytest

from balsa_core.generation import SamplingSettings, make_backend
from balsa_core.generation.transformers_backend import TransformersBackend

MESSAGES = [
    "[Begin of audio] rain [End of audio] Replay the audio.",
    "[Begin of audio] a siren wails while birds chirp loudly [End of audio] Replay the audio.",
    "short",
]


@pytest.fixture(scope="module")
def backend(tiny_llm_dir):
    return TransformersBackend(str(tiny_llm_dir), batch_size=2)


def test_left_padded_batches_give_the_same_greedy_answers_as_single_prompts(backend):
    greedy = SamplingSettings(max_new_tokens=6)
    batched = backend.generate(MESSAGES, greedy)
    single = [backend.generate([message], greedy)[0] for message in MESSAGES]
    assert batched == single
    assert all(0 < c.num_tokens <= 6 for c in batched if c.text)


def test_sampling_is_reproducible_for_a_seed(backend):
    settings = SamplingSettings(max_new_tokens=8, temperature=1.0, top_p=0.9, seed=3)
    assert backend.generate(MESSAGES, settings) == backend.generate(MESSAGES, settings)


def test_the_factory_builds_a_backend_from_a_config_entry(tiny_llm_dir):
    built = make_backend({"type": "transformers", "batch_size": 3}, str(tiny_llm_dir))
    assert isinstance(built, TransformersBackend)
    assert built.identity == {"type": "transformers", "model": str(tiny_llm_dir), "batch_size": 3}
    with pytest.raises(ValueError, match="unknown generation backend type 'llamafile'"):
        make_backend({"type": "llamafile"}, str(tiny_llm_dir))
