"""Clotho-AQA: questions kept where the annotators agree, from fixtures and the real samples."""

from __future__ import annotations

import pytest
from evaluation.loaders.benchmark_files import AUDIO, CLOTHO_AQA_CSV, check_schema, write
from helpers import SHARED_FORMATS, uses_real_sample

from balsa_core.evaluation.loaders import BenchmarkFileError, load_clotho_aqa

REAL_SAMPLES = SHARED_FORMATS / "clotho_aqa"


def test_clotho_aqa_keeps_unanimous_questions(tmp_path):
    path = write(tmp_path / "clotho_aqa_test.csv", CLOTHO_AQA_CSV)
    items = load_clotho_aqa(path, AUDIO)
    check_schema(items, "clotho_aqa")
    # "Is it raining?" is split 2-1 and "Is it night?" has one annotator only: both dropped.
    assert items["question"].tolist() == ["Are there waves?", "What size are the birds?", "Is a dog barking?"]
    assert items["answer"].tolist() == ["yes", "small", "no"]
    assert items["question_type"].tolist() == ["yes_no", "open", "yes_no"]
    assert items["audio_path"].tolist() == [
        str(AUDIO / "river.wav"),
        str(AUDIO / "birds.wav"),
        str(AUDIO / "birds.wav"),
    ]
    assert set(items["subset"]) == {"test"}
    assert items["annotators"].tolist() == [3, 3, 3]
    assert load_clotho_aqa(path, AUDIO, min_annotators=1)["question"].iloc[-1] == "Is it night?"


def test_clotho_aqa_several_files_and_errors(tmp_path):
    test = write(tmp_path / "clotho_aqa_test.csv", CLOTHO_AQA_CSV)
    other = write(tmp_path / "extra.csv", "file_name,QuestionText,answer,confidence\nx.wav,Is it loud?,no,yes\n" * 2)
    items = load_clotho_aqa([test, other], AUDIO)
    assert len(items) == 4 and items["subset"].tolist()[-1] == ""
    with pytest.raises(BenchmarkFileError, match="repeated item"):
        load_clotho_aqa([test, test], AUDIO)
    bad = write(tmp_path / "bad.csv", "file_name,Question,answer\nx.wav,Is it?,yes\n")
    with pytest.raises(BenchmarkFileError, match=r"bad\.csv: missing column\(s\) \['QuestionText'\]"):
        load_clotho_aqa(bad, AUDIO)
    with pytest.raises(BenchmarkFileError, match="nowhere.csv: annotation file not found"):
        load_clotho_aqa(tmp_path / "nowhere.csv", AUDIO)


@uses_real_sample(REAL_SAMPLES)
@pytest.mark.parametrize(
    ("split", "total", "yes_no"),
    # Each sample is its file's first 300 rows = 100 questions x 3 annotators (each question's rows are
    # consecutive); answers compared stripped and lower-cased. test: 52 unanimous = 48 yes/no + 4 open
    # ("small", "cheer", "five", "paper"); train: 48 = 42 + 6; val: 42 = 37 + 5.
    [("test", 52, 48), ("train", 48, 42), ("val", 42, 37)],
)
def test_real_clotho_aqa(split, total, yes_no):
    items = load_clotho_aqa(REAL_SAMPLES / f"clotho_aqa_{split}.csv", AUDIO)
    check_schema(items, "clotho_aqa")
    assert len(items) == total
    assert (items["question_type"] == "yes_no").sum() == yes_no
    assert (items["annotators"] == 3).all()
    assert set(items["subset"]) == {split}


@uses_real_sample(REAL_SAMPLES)
def test_real_clotho_aqa_test_open_answers():
    items = load_clotho_aqa(REAL_SAMPLES / "clotho_aqa_test.csv", AUDIO)
    assert items.loc[items["question_type"] == "open", "answer"].tolist() == ["small", "cheer", "five", "paper"]
    assert items["answer"].value_counts()[["yes", "no"]].tolist() == [32, 16]
