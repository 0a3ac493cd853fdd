"""A baseline audio LLM (``evaluation.baselines``) behind a loopback OpenAI-compatible server that
answers from the audio in the request: the evaluate_baseline stage asks it the items whose clips
have cached features, scores its replies, and its row appears in Tables IV and V."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from openai_server import OpenAIServer

from balsa_core.config import ConfigError
from balsa_core.evaluation.registry import TABLE4, TABLE5
from balsa_core.evaluation.suite import AnswerInstructions, prepare_items
from balsa_core.stages.evaluate import NO_AUDIO, evaluate_baseline, write_evaluation_tables

RATE = 16000
BASELINE = "qwen2_audio"


def hears_a_tone(content: str | list[dict]) -> str:
    """The loopback model: "yes" when the request's input_audio part is a 16 kHz WAV with a
    tone in it, "no" for a quiet one (and for a request without audio)."""
    parts = [] if isinstance(content, str) else content
    audio = next((part["input_audio"] for part in parts if part["type"] == "input_audio"), None)
    if audio is None or audio["format"] != "wav":
        return "no audio"
    waveform, rate = sf.read(io.BytesIO(base64.b64decode(audio["data"])))
    return "Yes, a tone." if rate == RATE and np.sqrt(np.mean(waveform**2)) > 0.1 else "No."


def write_clip(path: Path, *loud_seconds: bool) -> str:
    """One second of a 440 Hz tone, or of near silence, per entry."""
    time = np.arange(RATE) / RATE
    seconds = [0.5 * np.sin(2 * np.pi * 440 * time) if loud else np.full(RATE, 1e-4) for loud in loud_seconds]
    sf.write(path, np.concatenate(seconds), RATE)
    return str(path)


def hallucination_items(tmp_path: Path) -> pd.DataFrame:
    """Yes/no items as evaluation_items writes them: a tone clip, a quiet one, the tone and the
    quiet second of one file by their windows, and a clip with no cached features."""
    tone, quiet = write_clip(tmp_path / "tone.wav", True), write_clip(tmp_path / "quiet.wav", False)
    late = write_clip(tmp_path / "late.wav", False, True)
    rows = [
        ("tone", tone, 0.0, None, "yes"),
        ("quiet", quiet, 0.0, None, "no"),
        ("late_tone", late, 1.0, 1.0, "yes"),
        ("late_quiet", late, 0.0, 1.0, "no"),
        ("uncached", tone, 0.0, None, "yes"),
    ]
    items = pd.DataFrame(
        {
            "item_id": [f"hallucination|{clip}" for clip, *_ in rows],
            "benchmark": "hallucination",
            "subset": "",
            "audio_path": [path for _, path, *_ in rows],
            "question": "Is there a tone in the audio?",
            "choices": [[] for _ in rows],
            "answer": [answer for *_, answer in rows],
            "question_type": "yes_no",
            "clip_id": [clip for clip, *_ in rows],
            "offset_s": [offset for _, _, offset, _, _ in rows],
            "duration_s": [np.nan if duration is None else duration for _, _, _, duration, _ in rows],
            "description": None,
            "corpus_clip_id": None,
        }
    )
    return prepare_items(items, AnswerInstructions(yes_no="Answer yes or no."), shuffle_seed=0)


def with_baseline(base_url: str):
    def edit(config: dict) -> None:
        config["evaluation"]["baselines"] = {BASELINE: {"base_url": base_url, "model": "Qwen2-Audio-7B-Instruct"}}

    return edit


def test_a_baseline_endpoint_row_in_the_tables_through_a_loopback_server(tmp_path: Path, make_config) -> None:
    items = hallucination_items(tmp_path)
    questions = tmp_path / "items.parquet"
    items.to_parquet(questions, index=False)
    features = tmp_path / "features" / "index.parquet"
    features.parent.mkdir()
    cached = [clip for clip in items["clip_id"] if clip != "uncached"]
    pd.DataFrame({"clip_id": cached, "shard": "shard-0.safetensors"}).to_parquet(features, index=False)
    answers, metrics = tmp_path / "eval" / f"{BASELINE}.answers.parquet", tmp_path / "eval" / f"{BASELINE}.json"

    with OpenAIServer(answerer=hears_a_tone) as server:
        config = make_config(with_baseline(server.base_url))
        evaluate_baseline(config, "hallucination", BASELINE, questions, features, [], answers, metrics)
        requests = server.requests

    # Exactly the adapters' prompts, greedy, with the adapters' token budget; the clip first.
    assert len(requests) == 4
    asked = sorted(request["messages"][-1]["content"][1]["text"] for request in requests)
    assert asked == sorted(items["prompt"].iloc[:4])
    assert {(r["model"], r["temperature"], r["max_tokens"]) for r in requests} == {
        ("Qwen2-Audio-7B-Instruct", 0.0, config.evaluation.answering.max_new_tokens)
    }
    summary = json.loads(metrics.read_text())
    assert (summary["model"], summary["items"], summary["answered"]) == (BASELINE, 5, 4)
    assert summary["skipped"] == {NO_AUDIO: 1}
    sheet = pd.read_parquet(answers)
    assert sheet["reply"].tolist() == ["Yes, a tone.", "No.", "Yes, a tone.", "No."]
    assert sheet["correct"].all()

    assert config.evaluated_models[0] == BASELINE and BASELINE not in config.grounding_models
    outputs = {
        TABLE4: tmp_path / "table4.csv",
        "table4_plot": tmp_path / "table4.png",
        TABLE5: tmp_path / "table5.csv",
        "table5_plot": tmp_path / "table5.png",
        "details": tmp_path / "details.csv",
        "comparisons": tmp_path / "comparisons.csv",
    }
    write_evaluation_tables([metrics], [answers], config.evaluated_models, {}, None, outputs)
    table4 = pd.read_csv(outputs[TABLE4]).set_index("model")
    assert list(table4.index) == config.evaluated_models
    assert table4.loc[BASELINE, ["hallucination_acc", "hallucination_yes_rate"]].tolist() == [100.0, 50.0]
    assert "hallucination: 1 of 5 items skipped (audio missing or unreadable)" in table4.loc[BASELINE, "notes"]
    assert BASELINE in pd.read_csv(outputs[TABLE5])["model"].tolist()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("positive_only", "evaluation.baselines.positive_only: variants.positive_only has that name"),
        ("text_ceiling", "evaluation.baselines.text_ceiling: the name is reserved for the text-only backbone"),
    ],
)
def test_a_baseline_cannot_take_the_name_of_another_row(make_config, name: str, message: str) -> None:
    def edit(config: dict) -> None:
        config["evaluation"]["baselines"] = {name: {"base_url": "http://localhost:8000/v1", "model": "m"}}

    with pytest.raises(ConfigError, match=message):
        make_config(edit)
