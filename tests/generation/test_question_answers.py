"""``source: question_answers``: a question file's own answers as the targets (the papers' "Ours
(OpenAQA)"), drawn exactly as a ``questions`` set draws the questions the backbone answers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from balsa_core.config import ConfigError, generation_params, target_set_backend, validate_config
from balsa_core.generation.target_sets import TargetSet, read_questions, requests_for
from balsa_core.generation.targets import GenerationPlan, generate_target_set, read_targets
from balsa_core.prompts import PromptTemplate

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = PromptTemplate()
# OpenAQA's layout: instruction, output and the clip's audio file; two questions about c1, one general.
OPENAQA = [
    {"instruction": "What is the dog doing?", "output": "It is barking.", "audio_id": "/x/c1.flac"},
    {"instruction": "Is it indoors?", "output": "No, outdoors.", "audio_id": "/x/c1.flac"},
    {"instruction": "What is heard?", "output": "Rain on a roof.", "audio_id": ""},
    {"instruction": "Is it about c9?", "output": "Dropped: c9 is no clip here.", "audio_id": "/x/c9.flac"},
]


def seeds() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seed_id": ["a/1", "a/2"],
            "clip_id": ["a/c1", "a/c2"],
            "corpus": "a",
            "split": "train",
            "audio_path": ["/audio/a/c1.wav", "/audio/a/c2.wav"],
            "seed_text": ["a dog barks", "rain falls"],
            "tags": [["dog"], ["rain"]],
        }
    )


def openaqa_file(tmp_path: Path, entries: list[dict] = OPENAQA) -> Path:
    path = tmp_path / "openaqa.json"
    path.write_text(json.dumps(entries))
    return path


def test_the_file_s_answers_are_the_targets_of_the_questions_a_questions_set_draws(tmp_path: Path) -> None:
    path = openaqa_file(tmp_path)
    with_answers = read_questions(path, seeds(), with_answers=True)
    assert with_answers["answer"].tolist() == ["It is barking.", "No, outdoors.", "Rain on a roof."]
    answers = TargetSet("openaqa_answers", source="question_answers", questions=str(path), samples_per_seed=2)
    copied = requests_for(answers, seeds(), TEMPLATE, ["train"], questions=with_answers, seed=3)
    asked = requests_for(
        TargetSet("openaqa", source="questions", samples_per_seed=2),
        seeds(),
        TEMPLATE,
        ["train"],
        questions=read_questions(path, seeds()),
        seed=3,
    )
    # The same draw: c1's two questions, and the one general question for c2.
    assert copied[["source_id", "sample_index", "instruction"]].equals(
        asked[["source_id", "sample_index", "instruction"]]
    )
    answer_of = dict(zip(with_answers["question"], with_answers["answer"]))
    assert copied["reference"].tolist() == [answer_of[question] for question in copied["instruction"]]
    assert copied["prompt"].isna().all() and not answers.uses_backend

    written = generate_target_set(
        answers,
        copied,
        seeds(),
        None,
        None,
        GenerationPlan(settings=None),
        corpus="a",
        out_path=tmp_path / "targets.parquet",
        quality_path=tmp_path / "targets.quality.json",
    )
    assert written["target"].tolist() == copied["reference"].tolist()
    stored = read_targets(tmp_path / "targets.parquet")
    assert set(stored["source"]) == {"question_answers"} and stored["model"].isna().all()


def test_a_question_without_an_answer_is_refused(tmp_path: Path) -> None:
    blank = openaqa_file(tmp_path, [*OPENAQA[:2], {"instruction": "What is heard?", "output": " ", "audio_id": ""}])
    with pytest.raises(ValueError, match="empty answer in row 3"):
        read_questions(blank, seeds(), with_answers=True)
    questions_only = tmp_path / "questions.csv"
    questions_only.write_text("question\nWhat is heard?\n")
    with pytest.raises(ValueError, match="no 'answer' \\(or 'output'\\) column"):
        read_questions(questions_only, with_answers=True)
    answers = TargetSet("openaqa_answers", source="question_answers", questions=str(questions_only))
    with pytest.raises(ValueError, match="trains on the question file's answers; it gave none"):
        requests_for(answers, seeds(), TEMPLATE, ["train"], questions=read_questions(questions_only))


def test_the_config_takes_a_question_answers_set_with_its_file_and_no_backend(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["targets"]["openaqa_answers"] = {"source": "question_answers", "questions": str(openaqa_file(tmp_path))}
    validated = validate_config(config, base_dir=REPO)
    assert target_set_backend(validated, "openaqa_answers") is None
    # What the targets depend on: the draw's seed, no sampling settings.
    assert set(generation_params(validated, "openaqa_answers")) == {"splits", "leaking_targets", "seed"}
    config["targets"]["openaqa_answers"] = {"source": "question_answers", "prompt": "Describe."}
    with pytest.raises(ConfigError, match="a question_answers set needs 'questions'"):
        validate_config(config, base_dir=REPO)
