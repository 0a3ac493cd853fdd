"""Items and instructions shared by the tests of balsa_core.evaluation.suite."""

from __future__ import annotations

import pandas as pd

from balsa_core.evaluation.suite import AnswerInstructions

INSTRUCTIONS = AnswerInstructions(
    yes_no="Answer yes or no.", multiple_choice="Answer with the option's letter.", open="Answer in one word."
)


def item(item_id, question_type, question, answer, choices=(), subset="", **extra) -> dict:
    return {
        "item_id": item_id,
        "benchmark": "test",
        "subset": subset,
        "audio_path": f"/audio/{item_id}.wav",
        "question": question,
        "choices": list(choices),
        "answer": answer,
        "question_type": question_type,
        **extra,
    }


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def cells(column: pd.Series) -> list:
    """The column's values with missing ones as None (pandas' string columns hold NaN)."""
    return [None if pd.isna(value) else value for value in column]


CHOICES = ["dog barking", "cat meowing", "car horn", "rain"]
