import pandas as pd
import pytest

from balsa_core.generation import (
    Completion,
    SamplingSettings,
    TransformersBackend,
    generate_targets,
    read_targets,
    write_targets,
)
from balsa_core.prompts import PromptTemplate

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


class EchoBackend:
    """A backend that answers with its prompt, to check the bookkeeping around generation."""

    model_name = "echo"

    def generate(self, user_messages, settings):
        return [
            Completion(text=message.upper(), num_tokens=len(message.split()), finished=True)
            for message in user_messages
        ]


def metadata() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seed_id": ["c/1", "c/2", "c/3"],
            "clip_id": ["c/a", "c/b", "c/c"],
            "corpus": "c",
            "split": ["train", "train", "test"],
            "seed_text": ["rain", "a dog barks", "wind"],
        }
    )


def test_targets_carry_prompt_and_provenance(tmp_path):
    settings = SamplingSettings(max_new_tokens=40, temperature=0.7, top_p=0.9, seed=11)
    targets = generate_targets(
        metadata(),
        EchoBackend(),
        "echo",
        PromptTemplate(),
        "positive",
        "Replay the audio.",
        samples_per_seed=2,
        settings=settings,
        splits=["train"],
    )
    assert list(targets["target_id"]) == ["c/1|positive|0", "c/1|positive|1", "c/2|positive|0", "c/2|positive|1"]
    assert targets["prompt"].iloc[0] == "[Begin of audio] rain [End of audio] Replay the audio."
    assert targets["target"].iloc[0] == targets["prompt"].iloc[0].upper()
    assert targets[["model", "backend", "temperature", "top_p", "max_new_tokens", "seed"]].iloc[0].tolist() == [
        "echo",
        "echo",
        0.7,
        0.9,
        40,
        11,
    ]
    write_targets(targets, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_targets(tmp_path / "t.parquet"), targets, check_dtype=False)
