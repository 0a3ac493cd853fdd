"""Release-format fixtures and the item-table check shared by the benchmark loader tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from balsa_core.evaluation.loaders import COCHLSCENE_SCENES, ITEM_COLUMNS, QUESTION_TYPES

AUDIO = Path("/data/audio")


def check_schema(items: pd.DataFrame, benchmark: str) -> None:
    assert tuple(items.columns[: len(ITEM_COLUMNS)]) == ITEM_COLUMNS
    assert items["item_id"].is_unique
    assert (items["benchmark"] == benchmark).all()
    assert items["question_type"].isin(QUESTION_TYPES).all()
    for item in items.itertuples(index=False):
        assert isinstance(item.choices, list)
        assert item.question.strip() and item.answer.strip()
        assert item.audio_path.startswith(str(AUDIO))
        if item.question_type == "multiple_choice":
            assert item.answer in item.choices
        else:
            assert item.choices == []
        if item.question_type == "yes_no":
            assert item.answer in ("yes", "no")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CLOTHO_AQA_CSV = """file_name,QuestionText,answer,confidence
river.wav,Are there waves?,yes,yes
river.wav,Are there waves?,Yes,yes
river.wav,Are there waves?,yes ,maybe
river.wav,Is it raining?,yes,yes
river.wav,Is it raining?,no,yes
river.wav,Is it raining?,yes,maybe
birds.wav,What size are the birds?,small,yes
birds.wav,What size are the birds?,small,yes
birds.wav,What size are the birds?,small,maybe
birds.wav,Is a dog barking?,no,yes
birds.wav,Is a dog barking?,no,yes
birds.wav,Is a dog barking?,no,yes
birds.wav,Is it night?,no,yes
"""


def cochlscene_split(root: Path, clips: int) -> Path:
    split = root / "Test"
    for scene in COCHLSCENE_SCENES:
        (split / scene).mkdir(parents=True)
        for number in range(clips):
            (split / scene / f"{scene}_{number:03d}.wav").touch()
    (split / "Bus" / "notes.txt").touch()
    return split
