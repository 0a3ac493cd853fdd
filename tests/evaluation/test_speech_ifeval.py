"""Speech-IFEval: the released files as instruction items, their IFEval rules, the IF rates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import SHARED_FORMATS, uses_real_sample

from balsa_core.evaluation.ifeval_rules import follows_rules
from balsa_core.evaluation.loaders import BenchmarkFileError, load_benchmark, load_speech_ifeval
from balsa_core.evaluation.suite import AnswerInstructions, item_scorer, prepare_items, score_replies

REAL_SAMPLES = SHARED_FORMATS / "speech_ifeval"


def line(metric: str, instruction: str, rules: list[tuple[str, dict]] | None = None, **extra) -> str:
    entry = {
        "audio_filepath": "Gender_recognition/a.wav",
        "textual_audio": "[00:00:00 - 00:00:02] Of course.(Gender: Female, Emotion: happy)",
        "instruction": instruction,
        "dataset": "Gender_recognition",
        "metric": metric,
        **extra,
    }
    if rules is not None:
        entry["instruction_id_list"] = [rule for rule, _ in rules]
        entry["kwargs"] = [arguments for _, arguments in rules]
    return json.dumps(entry)


def write_lines(path, *lines: str):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rule", "kwargs", "followed", "broken"),
    [
        ("change_case:english_capital", {}, "HE SAT DOWN.", "He sat down."),
        ("change_case:english_lowercase", {}, "he sat down.", "He sat down."),
        ("detectable_format:json_format", {}, '```json\n{"text": "hi"}\n```', "text: hi"),
        ("detectable_format:title", {}, "<<A Title>>\nBody.", "<<>> Body."),
        ("startend:quotation", {}, '"he sat down"', 'he sat "down"'),
        ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Done. Any other questions?", "Done."),
        ("combination:repeat_prompt", {"prompt_to_repeat": "Say it."}, "Say it. It.", "It."),
        ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n* two", "* one\n* two\n- three"),
        ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "two words", "one two three"),
        ("length_constraints:number_sentences", {"num_sentences": 2, "relation": "at least"}, "A. B!", "A b."),
        ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "One.\n***\nTwo.", "One.\n***\n***\nTwo."),
        ("keywords:existence", {"keywords": ["speech"]}, "The speech is calm.", "It is calm."),
        ("keywords:forbidden_words", {"forbidden_words": ["sad"]}, "A calm voice.", "A Sad voice."),
    ],
)
def test_closed_rules(rule, kwargs, followed, broken):
    assert follows_rules(followed, [rule], [kwargs])
    assert not follows_rules(broken, [rule], [kwargs])
    # IFEval's strict check: a blank or missing reply follows nothing.
    assert not follows_rules("   ", [rule], [kwargs]) and not follows_rules(None, [rule], [kwargs])


def test_every_rule_of_an_item_must_hold():
    rules = ["change_case:english_capital", "startend:quotation"]
    assert follows_rules('"LOUD"', rules, [{}, {}])
    assert not follows_rules("LOUD", rules, [{}, {}])


def test_loader_items_and_parts(tmp_path):
    closed = write_lines(
        tmp_path / "closed_ended_questions.jsonl",
        line("wer", "Transcribe it.\nUse capitals.", [("change_case:english_capital", {})], id=0, label="OF COURSE"),
        line("accuracy", "Gender?\nWrap in quotes.", [("startend:quotation", {})], id=1, label="female"),
    )
    creative = write_lines(
        tmp_path / "creative_writing.jsonl",
        line("open", "Three bullets.", [("detectable_format:number_bullet_lists", {"num_bullets": 3})], key="b-0"),
    )
    thought = write_lines(tmp_path / "chain-of-thought.jsonl", line("cot", "Gender?\nThink step by step."))
    items = load_benchmark("speech_ifeval", [closed, creative, thought], tmp_path / "audios")
    assert items["item_id"].tolist() == [
        "speech_ifeval|closed_ended_questions|0",
        "speech_ifeval|closed_ended_questions|1",
        "speech_ifeval|creative_writing|b-0",
        "speech_ifeval|chain-of-thought|1",
    ]
    assert items["subset"].tolist() == ["closed_ended", "closed_ended", "creative_writing", "chain_of_thought"]
    assert items["part"].tolist() == ["closed", "closed", "open", "open"]
    assert items["judged"].tolist() == [False, False, False, True]
    assert set(items["question_type"]) == {"instruction"}
    assert items["audio_path"].iloc[0] == str(tmp_path / "audios" / "Gender_recognition" / "a.wav")
    assert items["description"].iloc[0].startswith("[00:00:00 - 00:00:02] Of course.")
    assert items["answer"].iloc[0] == "change_case:english_capital"
    prepared = prepare_items(items, AnswerInstructions(multiple_choice="x"), shuffle_seed=0)
    assert prepared["prompt"].iloc[0] == "Transcribe it.\nUse capitals."
    replies = ["OF COURSE", "female", "* a\n* b\n* c", "First, the pitch is high... so female."]
    scored = score_replies(prepared, replies, [None, None, None, True])
    assert scored["correct"].tolist() == [True, False, True, True]
    rates = item_scorer(scored)(np.arange(4))
    assert rates == pytest.approx({"if_close": 50.0, "if_open": 100.0, "if_rate": 75.0})
    with pytest.raises(ValueError, match="judged by an LLM, but no verdict was given"):
        score_replies(prepared, replies)


def test_loader_errors_name_file_line_and_key(tmp_path):
    unknown = write_lines(tmp_path / "a.jsonl", line("wer", "x", [("punctuation:no_comma", {})], id=0))
    with pytest.raises(BenchmarkFileError, match=r"a\.jsonl:1: unknown instruction id 'punctuation:no_comma'"):
        load_speech_ifeval(unknown, tmp_path)
    no_kwarg = write_lines(tmp_path / "b.jsonl", line("open", "x", [("startend:end_checker", {})], key="k"))
    with pytest.raises(BenchmarkFileError, match=r"b\.jsonl:1: 'startend:end_checker' needs kwargs \['end_phrase'\]"):
        load_speech_ifeval(no_kwarg, tmp_path)
    no_rules = write_lines(tmp_path / "c.jsonl", line("cot", "x"), line("wer", "y", id=3))
    with pytest.raises(BenchmarkFileError, match=r"c\.jsonl:2: 'instruction_id_list' must be a non-empty list"):
        load_speech_ifeval(no_rules, tmp_path)
    missing = write_lines(tmp_path / "d.jsonl", json.dumps({"instruction": "x", "metric": "cot"}))
    with pytest.raises(BenchmarkFileError, match=r"d\.jsonl:1: missing key\(s\) \['audio_filepath'"):
        load_speech_ifeval(missing, tmp_path)
    metric = write_lines(tmp_path / "e.jsonl", line("bleu", "x"))
    with pytest.raises(BenchmarkFileError, match=r"e\.jsonl:1: 'metric' 'bleu' is not one of"):
        load_speech_ifeval(metric, tmp_path)


@uses_real_sample(REAL_SAMPLES)
def test_real_speech_ifeval_files():
    names = ["closed_ended_questions.head40.jsonl", "creative_writing.head40.jsonl", "chain-of-thought.head40.jsonl"]
    items = load_speech_ifeval([REAL_SAMPLES / name for name in names], "/audios")
    assert items["subset"].value_counts().to_dict() == {
        "closed_ended": 40,
        "creative_writing": 40,
        "chain_of_thought": 40,
    }
    assert items["judged"].sum() == 40
    with pytest.raises(BenchmarkFileError, match="the -woprompt file is the task-level baseline"):
        load_speech_ifeval(REAL_SAMPLES / "closed_ended_questions-woprompt.head40.jsonl", "/audios")
