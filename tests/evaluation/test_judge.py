"""The LLM judge of Speech-IFEval's chain-of-thought replies, through the loopback server, and
the IF rates the tables show with and without a judge."""

from __future__ import annotations

import pandas as pd
import pytest
from openai_server import OpenAIServer

from balsa_core.evaluation.judge import JUDGE_SYSTEM_MESSAGE, judge_verdicts, needs_judge, parse_verdict
from balsa_core.evaluation.registry import IF_NO_JUDGE_NOTE, NO_JUDGE, TABLE5
from balsa_core.evaluation.tables import results_table
from balsa_core.settings import Judge

ITEMS = pd.DataFrame(
    {
        "item_id": ["a", "b", "c", "d"],
        "question": ["Gender? Think step by step.", "Emotion? Think step by step.", "Capitals.", "Why?"],
        "judged": [True, True, False, True],
    }
)


def test_verdicts_come_from_the_judge_server():
    # The loopback server echoes the request, so a reply that states a verdict is judged by it.
    replies = ["The pitch is high, so... Result: YES", "Sad. Result: no", "LOUD", "Because."]
    with OpenAIServer() as server:
        judge = Judge(base_url=server.base_url, model="judge-model", max_retries=0)
        verdicts = judge_verdicts(ITEMS, replies, judge)
        requests = server.requests
    assert verdicts == [True, False, None, False]  # d's judge states no verdict: a NO
    assert len(requests) == 3  # only the judged items
    first = sorted(requests, key=lambda body: body["messages"][-1]["content"])[0]
    assert first["model"] == "judge-model" and first["temperature"] == 0.0
    assert first["messages"][0] == {"role": "system", "content": JUDGE_SYSTEM_MESSAGE}
    assert first["messages"][-1]["content"].startswith("User request: ")


def test_judge_is_required_for_judged_items_only():
    assert needs_judge(ITEMS).tolist() == [True, True, False, True]
    assert needs_judge(ITEMS.drop(columns="judged")).tolist() == [False] * 4
    assert judge_verdicts(ITEMS.iloc[[2]], ["LOUD"], None) == [None]
    with pytest.raises(ValueError, match="3 item\\(s\\) need an LLM judge but evaluation.judge is not set"):
        judge_verdicts(ITEMS, ["x"] * 4, None)


def test_parse_verdict_takes_the_last_stated_one():
    assert parse_verdict("Result: NO ... on reflection, Result: YES")
    assert not parse_verdict("YES, it reasons")


def _if_metrics(model: str, overall: dict, skipped: dict | None = None) -> tuple[tuple[str, str], dict]:
    metrics = {"items": 10, "answered": 10, "skipped": skipped or {}, "overall": overall, "subsets": {}}
    return ("instruction_following", model), metrics


def test_tables_show_speech_ifeval_rates_and_the_forgetting_rate():
    results = dict(
        [
            _if_metrics("listen", {"if_close": 80.0, "if_open": 90.0, "if_rate": 85.0}),
            _if_metrics("text-ceiling", {"if_close": 90.0, "if_open": 90.0, "if_rate": 90.0}),
        ]
    )
    table = results_table(TABLE5, results, ["listen", "text-ceiling"], {}, "text-ceiling").set_index("model")
    assert table.loc["listen", ["if_close", "if_open", "if_rate"]].tolist() == [80.0, 90.0, 85.0]
    # Δ = (85 - 90) / 90, in percent: negative means the audio model forgot.
    assert table.loc["listen", "if_forgetting_rate"] == pytest.approx(-5.56)
    assert "if_open" not in table.loc["listen", "notes"]


def test_without_a_judge_the_open_column_stays_empty_with_a_note():
    skipped = {"audio missing or unreadable": 0, NO_JUDGE: 4}
    results = dict(
        [
            _if_metrics("listen", {"if_close": 80.0, "if_open": 95.0, "if_rate": 87.5}, skipped),
            _if_metrics("text-ceiling", {"if_close": 100.0, "if_open": 95.0, "if_rate": 97.5}, skipped),
        ]
    )
    table = results_table(TABLE5, results, ["listen", "text-ceiling"], {}, "text-ceiling").set_index("model")
    assert pd.isna(table.loc["listen", "if_open"])
    assert table.loc["listen", "if_rate"] == table.loc["listen", "if_close"] == 80.0
    assert table.loc["listen", "if_forgetting_rate"] == pytest.approx(-20.0)
    assert IF_NO_JUDGE_NOTE in table.loc["listen", "notes"]
