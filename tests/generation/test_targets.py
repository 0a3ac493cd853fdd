"""generate_target_set: provenance and per-message seeds, leak and mention checks, ground-truth copies."""

from __future__ import annotations

import pandas as pd
import pytest

from balsa_core.generation import Completion, SamplingSettings
from balsa_core.generation.target_sets import TargetSet, requests_for
from balsa_core.generation.targets import GenerationPlan, generate_target_set, read_targets, shard_directory
from balsa_core.prompts import PromptTemplate


class EchoBackend:
    """Answers with its prompt upper-cased, or a fixed text for one prompt: bookkeeping checks."""

    model_name = "echo"
    identity = {"type": "echo"}

    def __init__(self, answers: dict[str, str] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[list[str]] = []

    def generate(self, user_messages, settings):
        self.calls.append(list(user_messages))
        return [
            Completion(text=self.answers.get(message, message.upper()), num_tokens=len(message.split()), finished=True)
            for message in user_messages
        ]


def metadata() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seed_id": ["c/1", "c/2", "c/3"],
            "clip_id": ["c/a", "c/b", "c/c"],
            "corpus": "c",
            "split": ["train", "train", "test"],
            "audio_path": ["a.wav", "b.wav", "c.wav"],
            "seed_text": ["rain", "a dog barks", "wind"],
            "tags": [["rain"], [], ["wind"]],
        }
    )


SETTINGS = SamplingSettings(max_new_tokens=40, temperature=0.7, top_p=0.9, seed=11)


def run_set(tmp_path, target_set, backend, leaking_targets="keep"):
    requests = requests_for(target_set, metadata(), PromptTemplate(), ["train"])
    out = tmp_path / f"{target_set.name}.parquet"
    written = generate_target_set(
        target_set,
        requests,
        metadata(),
        backend,
        "echo" if backend else None,
        GenerationPlan(SETTINGS if backend else None, shard_size=1, leaking_targets=leaking_targets),
        corpus="c",
        out_path=out,
        quality_path=tmp_path / f"{target_set.name}.quality.json",
    )
    return written, out


def test_backbone_targets_carry_prompt_provenance_and_per_message_seeds(tmp_path):
    written, out = run_set(
        tmp_path, TargetSet("positive", prompt="Replay the audio.", samples_per_seed=2), EchoBackend()
    )
    assert list(written["target_id"]) == ["c/1|positive|0", "c/1|positive|1", "c/2|positive|0", "c/2|positive|1"]
    assert written["prompt"].iloc[0] == "[Begin of audio] rain [End of audio] Replay the audio."
    assert written["target"].iloc[0] == written["prompt"].iloc[0].upper()
    assert written["instruction"].unique().tolist() == ["Replay the audio."]
    assert written[["model", "backend", "temperature", "top_p", "max_new_tokens"]].iloc[0].tolist() == [
        "echo",
        "echo",
        0.7,
        0.9,
        40,
    ]
    assert list(written["seed"]) == [11, 12, 13, 14], "message i of the job is sampled with seed + i"
    pd.testing.assert_frame_equal(read_targets(out), written, check_dtype=False)
    assert len(list(shard_directory(out).glob("shard-*.parquet"))) == 4


def test_leaking_negative_targets_are_flagged_and_dropped_when_config_says(tmp_path):
    negative = TargetSet("negative", prompt="Identify sounds that are absent.", names_absent_sounds=True)
    asked = {seed: PromptTemplate().user_message([seed], negative.prompt) for seed in ("rain", "a dog barks")}
    backend = EchoBackend({asked["rain"]: "Absent: birds, a car horn.", asked["a dog barks"]: "Absent: a barking dog."})

    kept, _ = run_set(tmp_path / "keep", negative, backend)
    assert kept.set_index("target_id")["leak"].to_dict() == {"c/1|negative|0": False, "c/2|negative|0": True}

    dropped, out = run_set(tmp_path / "drop", negative, backend, leaking_targets="drop")
    assert list(dropped["target_id"]) == ["c/1|negative|0"]
    report = pd.read_json(out.with_suffix(".quality.json"), typ="series")
    assert (report["targets"], report["leaking"], report["dropped"], report["leak_rate"]) == (2, 1, 1, 0.5)
    assert not report["mention_checked"], "absent-sound targets are not expected to name the clip's sounds"


def test_sets_describing_their_clips_report_how_often_targets_name_their_sounds(tmp_path):
    positive = TargetSet("positive", prompt="Replay the audio.")
    asked = {seed: PromptTemplate().user_message([seed], positive.prompt) for seed in ("rain", "a dog barks")}
    backend = EchoBackend({asked["rain"]: "Heavy rain on a roof.", asked["a dog barks"]: "A piano melody."})

    _, out = run_set(tmp_path, positive, backend)

    report = pd.read_json(out.with_suffix(".quality.json"), typ="series")
    assert (report["mention_checked"], report["mentioning"], report["mention_rate"]) == (True, 1, 0.5)
    assert not report["leak_checked"]


def test_ground_truth_targets_copy_the_seed_without_any_backend(tmp_path):
    rule_based = TargetSet("rule_based", source="ground_truth", prompt="Describe the audio.")
    written, out = run_set(tmp_path, rule_based, backend=None)
    assert list(written["target"]) == ["rain", "a dog barks"]
    assert written["prompt"].isna().all() and written["model"].isna().all()
    assert not shard_directory(out).exists()


def test_a_backbone_set_without_a_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="needs a generation backend"):
        run_set(tmp_path, TargetSet("positive", prompt="Replay the audio."), backend=None)
