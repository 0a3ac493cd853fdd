"""MMAU: the sound items of the JSON release with their choices in released order."""

from __future__ import annotations

import json

import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, write
from helpers import SHARED_FORMATS, uses_real_sample

from balsa_core.evaluation.loaders import BenchmarkFileError, load_mmau

REAL_SAMPLES = SHARED_FORMATS / "mmau"


def mmau_entry(ident: str, task: str, choices: list, answer: str, **extra) -> dict:
    return {
        "id": ident,
        "audio_id": f"./test-mini-audios/{ident}.wav",
        "question": f"Question {ident}?",
        "choices": choices,
        "answer": answer,
        "dataset": "AudioSet",
        "task": task,
        "split": "test-mini",
        "category": "Reasoning",
        "sub-category": "Acoustic Source Inference",
        "difficulty": "easy",
        **extra,
    }


def test_mmau_keeps_sound_items_with_released_choice_order(tmp_path):
    entries = [
        mmau_entry("a1", "sound", ["Man", "Woman", "Child", "Robot"], "Woman"),
        mmau_entry("m1", "music", ["Piano", "Guitar"], "Piano"),
        mmau_entry("a2", "sound", ["A dog barking ", "A cat", "A cat"], "A dog barking", category="['Reasoning']"),
        mmau_entry("s1", "speech", ["one", "two"], "two"),
    ]
    path = write(tmp_path / "mmau-test-mini.json", json.dumps(entries))
    items = load_mmau(path, AUDIO)
    check_schema(items, "mmau")
    assert items["item_id"].tolist() == ["mmau|a1", "mmau|a2"]
    assert items["choices"].tolist() == [["Man", "Woman", "Child", "Robot"], ["A dog barking", "A cat"]]
    assert items["audio_path"].iloc[0] == str(AUDIO / "test-mini-audios" / "a1.wav")
    assert items["subset"].tolist() == ["sound", "sound"]
    assert items["category"].tolist() == ["Reasoning", "Reasoning"]
    assert items["sub_category"].iloc[0] == "Acoustic Source Inference"
    assert load_mmau(path, AUDIO, tasks=("sound", "speech"))["subset"].tolist() == ["sound", "sound", "speech"]


def test_mmau_errors_name_the_key(tmp_path):
    entry = mmau_entry("a1", "sound", ["x", "y"], "x")
    del entry["audio_id"]
    with pytest.raises(BenchmarkFileError, match=r"question #0 \(a1\) lacks key\(s\) \['audio_id'\]"):
        load_mmau(write(tmp_path / "m.json", json.dumps([entry])), AUDIO)
    wrong = mmau_entry("a2", "sound", ["x", "y"], "z")
    with pytest.raises(BenchmarkFileError, match="answer 'z' is not among the choices"):
        load_mmau(write(tmp_path / "m.json", json.dumps([wrong])), AUDIO)
    escaping = mmau_entry("a3", "sound", ["x", "y"], "x", audio_id="../elsewhere/a3.wav")
    with pytest.raises(BenchmarkFileError, match="not a relative path inside the release"):
        load_mmau(write(tmp_path / "m.json", json.dumps([escaping])), AUDIO)
    with pytest.raises(BenchmarkFileError, match="expected a JSON list"):
        load_mmau(write(tmp_path / "m.json", "{}"), AUDIO)


@uses_real_sample(REAL_SAMPLES)
def test_real_mmau_sound_items():
    path = REAL_SAMPLES / "mmau-test-mini.json"
    items = load_mmau(path, AUDIO)
    check_schema(items, "mmau")
    # All 1000 test-mini questions: 333 sound, 334 music, 333 speech. Sound: 332 with 4 options, 1 with 8.
    assert len(items) == 333
    assert items["choices"].map(len).value_counts().to_dict() == {4: 332, 8: 1}
    first = items.iloc[0]
    assert first["item_id"] == "mmau|3fe64f3d-282c-4bc8-a753-68f8f6c35652"
    assert first["audio_path"] == str(AUDIO / "test-mini-audios" / "3fe64f3d-282c-4bc8-a753-68f8f6c35652.wav")
    assert (first["choices"], first["answer"]) == (["Man", "Woman", "Child", "Robot"], "Man")
    # 13 sound items store their category as "['Reasoning']".
    assert items["category"].value_counts().to_dict() == {"Reasoning": 240, "Information Extraction": 93}
    every_task = load_mmau(path, AUDIO, tasks=("sound", "music", "speech"))
    assert every_task["subset"].value_counts().to_dict() == {"music": 334, "sound": 333, "speech": 333}
