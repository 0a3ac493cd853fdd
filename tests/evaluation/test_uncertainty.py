"""Intervals, chance levels, validity and paired comparisons from answer sheets
(balsa_core.evaluation.uncertainty), and how the tables carry them."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from balsa_core.evaluation.registry import TABLE4, TABLE5, table_columns
from balsa_core.evaluation.suite import (
    AnswerInstructions,
    evaluation_metrics,
    item_scorer,
    prepare_items,
    score_replies,
)
from balsa_core.evaluation.tables import cell_intervals, details_table, results_table
from balsa_core.evaluation.uncertainty import (
    MCNEMAR,
    OVERALL,
    PAIRED_BOOTSTRAP,
    ScopeStatistics,
    compared_pairs,
    comparisons_table,
    evaluation_validity,
    scope_statistics,
)
from balsa_core.reports import plot_results_table

CHOICES = ["dog barking", "cat meowing", "car horn", "rain"]


def sheet(golds: list[str], replies: list[str], subsets: list[str] | None = None) -> pd.DataFrame:
    """A scored answer sheet: yes/no items when the golds are yes/no, else four-option items."""
    rows = []
    for i, gold in enumerate(golds):
        yes_no = gold in ("yes", "no")
        rows.append(
            {
                "item_id": f"item-{i}",
                "benchmark": "test",
                "subset": subsets[i] if subsets else "",
                "audio_path": f"/audio/{i}.wav",
                "question": "Is there a dog?" if yes_no else "Which sound is it?",
                "choices": [] if yes_no else CHOICES,
                "answer": gold,
                "question_type": "yes_no" if yes_no else "multiple_choice",
            }
        )
    prepared = prepare_items(pd.DataFrame(rows), AnswerInstructions(), shuffle_seed=0)
    return score_replies(prepared, replies)


def job(evaluation: str, model: str, answers: pd.DataFrame) -> dict:
    """The metrics an evaluation job writes beside its answer sheet."""
    return {
        "evaluation": evaluation,
        "model": model,
        "items": len(answers),
        "answered": len(answers),
        "skipped": {},
        **evaluation_metrics(answers),
    }


def hallucination(right: int, total: int = 100, yes: int = 40) -> pd.DataFrame:
    """``total`` yes/no items (``yes`` of them "yes"), the first ``right`` answered right, the rest wrong."""
    golds = ["yes"] * yes + ["no"] * (total - yes)
    flip = {"yes": "no", "no": "yes"}
    return sheet(golds, [gold if i < right else flip[gold] for i, gold in enumerate(golds)])


def always_no(total: int = 100, yes: int = 40) -> pd.DataFrame:
    return sheet(["yes"] * yes + ["no"] * (total - yes), ["no"] * total)


# --------------------------------------------------------------------------- statistics


def test_a_selection_scores_as_the_selected_items_do() -> None:
    answers = hallucination(right=70)
    picked = np.array([0, 0, 5, 50, 51, 99, 99, 99])
    selected = answers.iloc[picked].reset_index(drop=True)
    assert item_scorer(answers)(picked) == pytest.approx(evaluation_metrics(selected)["overall"])


def test_statistics_of_every_scope_contain_their_values() -> None:
    answers = sheet(["yes", "no"] * 30, ["yes"] * 60, subsets=["random", "popular"] * 30)
    statistics = scope_statistics({("hallucination", "listen"): answers})
    assert set(statistics) == {("hallucination", "listen", scope) for scope in ("all", "random", "popular")}
    overall = statistics["hallucination", "listen", "all"]
    assert overall.items == 60
    assert overall.values == pytest.approx(evaluation_metrics(answers)["overall"])
    for metric, value in overall.values.items():
        assert overall.low[metric] <= value <= overall.high[metric]
    # Always "yes": right on every "yes" item, so half right; F1 yes is 2/3.
    assert overall.values["acc"] == 50.0 and overall.low["acc"] < 50.0 < overall.high["acc"]
    assert overall.chance == {
        "acc": 50.0,
        "f1_yes": 50.0,
        "f1_no": 50.0,
        "precision_yes": 50.0,
        "precision_no": 50.0,
        "recall_yes": 50.0,
        "recall_no": 50.0,
        "f1_weighted": 50.0,
        "precision_weighted": 50.0,
        "recall_weighted": 50.0,
        "yes_rate": None,
        "unparsed": None,
    }
    assert statistics == scope_statistics({("hallucination", "listen"): answers}), "seeded"


def test_details_carry_intervals_and_chance() -> None:
    answers = always_no()
    sheets = {("hallucination", "listen"): answers}
    details = details_table({key: job(*key, answers) for key in sheets}, scope_statistics(sheets))
    rows = details.set_index("metric")
    assert rows.loc["acc", ["value", "chance"]].tolist() == [60.0, 60.0]
    assert rows.loc["acc", "ci_low"] < 60.0 < rows.loc["acc", "ci_high"]
    assert rows.loc["f1_weighted", "chance"] == 52.0  # 0.4^2 + 0.6^2
    assert np.isnan(rows.loc["yes_rate", "chance"]) and np.isnan(rows.loc["unparsed", "chance"])
    assert rows["ci_low"].notna().all()


# --------------------------------------------------------------------------- validity


def table4_with(text_ceiling: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    sheets = {
        ("hallucination", "text_ceiling"): text_ceiling,
        ("hallucination", "listen"): hallucination(right=90),
    }
    results = {key: job(*key, answers) for key, answers in sheets.items()}
    validity = evaluation_validity(["hallucination"], "text_ceiling", sheets, scope_statistics(sheets))
    models = ["listen", "text_ceiling"]
    table = results_table(TABLE4, results, models, {}, "text_ceiling", validity)
    return table.set_index("model"), validity


def test_a_text_ceiling_at_chance_flags_the_evaluation_and_says_so() -> None:
    # Always "no" on 60 "no" items of 100: exactly the majority answer's 60 %.
    table, validity = table4_with(always_no())
    assert validity["hallucination"].informative is False
    assert table["valid"].tolist() == [False, False]
    for notes in table["notes"]:
        assert "hallucination: uninformative for this backbone: the text ceiling scores acc 60.0% [" in notes
        assert "] against chance 60.0%" in notes
    # The numbers stay.
    assert table.loc["listen", "hallucination_acc"] == 90.0


def test_a_text_ceiling_clearly_above_chance_leaves_no_flag_or_note() -> None:
    table, validity = table4_with(hallucination(right=95))
    assert validity["hallucination"].informative is True
    assert table["valid"].tolist() == [True, True]
    assert not table["notes"].str.contains("uninformative|validity").any()


def test_validity_of_f1_metrics_uses_the_bootstrap_lower_bound() -> None:
    # synonym_hypernym is judged on weighted F1; always "no" on 80 "no" of 100 scores
    # 0.8 * F1_no (2 * 0.8 / 1.8 = 88.9 %) = 71.1 %, above 0.2^2 + 0.8^2 = 68 % but not clearly.
    at_chance = {("synonym_hypernym", "text_ceiling"): always_no(yes=20)}
    verdict = evaluation_validity(["synonym_hypernym"], "text_ceiling", at_chance, scope_statistics(at_chance))
    assert verdict["synonym_hypernym"].informative is False
    assert "scores f1_weighted 71.1% [" in verdict["synonym_hypernym"].note
    clear = {("synonym_hypernym", "text_ceiling"): hallucination(right=95, yes=20)}
    verdict = evaluation_validity(["synonym_hypernym"], "text_ceiling", clear, scope_statistics(clear))
    assert verdict["synonym_hypernym"].informative is True


def test_validity_is_unknown_without_a_text_ceiling_and_not_judged_without_chance() -> None:
    followed = pd.DataFrame(
        {
            "item_id": ["if-0", "if-1"],
            "subset": "",
            "question_type": "instruction",
            "options": [[], []],
            "gold": "{}",
            "parsed": ["followed", ""],
            "correct": [True, False],
        }
    )
    sheets = {("hallucination", "listen"): hallucination(right=90), ("instruction_following", "listen"): followed}
    statistics = scope_statistics(sheets)
    assert statistics["instruction_following", "listen", "all"].chance == {"if_rate": None}
    unknown = evaluation_validity(["hallucination", "instruction_following"], None, sheets, statistics)
    assert list(unknown) == ["hallucination"]  # the instruction-following rate has no chance level
    assert unknown["hallucination"].informative is None
    assert "validity unknown without the text ceiling" in unknown["hallucination"].note
    missing = evaluation_validity(["hallucination"], "text_ceiling", sheets, statistics)
    assert "the text ceiling answered none of its items" in missing["hallucination"].note
    results = {key: job(*key, answers) for key, answers in sheets.items() if key[0] == "hallucination"}
    table = results_table(TABLE4, results, ["listen"], {}, None, unknown)
    assert table["valid"].isna().all()
    assert "hallucination: validity unknown" in table.loc[0, "notes"]


# --------------------------------------------------------------------------- comparisons


def test_compared_pairs_follow_the_models_present() -> None:
    variants = ["positive_only", "positive_negative", "ma_difference"]
    assert compared_pairs([*variants, "text_ceiling"], "text_ceiling") == [
        ("positive_negative", "positive_only"),
        ("positive_only", "text_ceiling"),
        ("positive_negative", "text_ceiling"),
        ("ma_difference", "text_ceiling"),
    ]
    assert compared_pairs(["positive_only", "untrained", "text_ceiling"], "text_ceiling") == [
        ("positive_only", "text_ceiling"),
        ("positive_only", "untrained"),
    ]
    assert compared_pairs(["positive_only"], None) == []


def test_mcnemar_on_known_discordant_items() -> None:
    # 30 "no" items: a gets 25 right, b gets 17 right; a alone is right on 10, b alone on 2.
    golds = ["no"] * 30
    a = ["no"] * 25 + ["yes"] * 5
    b = ["no"] * 15 + ["yes"] * 10 + ["no"] * 2 + ["yes"] * 3
    sheets = {
        ("hallucination", "positive_negative"): sheet(golds, a),
        ("hallucination", "positive_only"): sheet(golds, b),
    }
    table = comparisons_table(sheets, ["positive_only", "positive_negative"], None)
    (row,) = table.to_dict("records")
    assert row["model_a"] == "positive_negative" and row["model_b"] == "positive_only"
    assert (row["metric"], row["test"], row["items"]) == ("acc", MCNEMAR, 30)
    assert (row["value_a"], row["value_b"], row["difference"]) == (83.33, 56.67, 26.67)
    # Two-sided exact binomial of 10 of 12 at 1/2: 2 * (1 + 12 + 66) / 4096.
    assert row["p_value"] == pytest.approx(158 / 4096, rel=1e-3)
    assert row["ci_low"] < row["difference"] < row["ci_high"]


def test_f1_metrics_are_compared_by_paired_bootstrap_on_shared_items() -> None:
    clear = hallucination(right=95, yes=20)
    guess = always_no(yes=20)
    sheets = {
        ("synonym_hypernym", "listen"): clear,
        ("synonym_hypernym", "text_ceiling"): guess.iloc[10:],  # skipped the first ten items
    }
    (row,) = comparisons_table(sheets, ["listen", "text_ceiling"], "text_ceiling").to_dict("records")
    assert (row["metric"], row["test"], row["items"]) == ("f1_weighted", PAIRED_BOOTSTRAP, 90)
    shared = clear.iloc[10:].reset_index(drop=True)
    assert row["value_a"] == round(evaluation_metrics(shared)["overall"]["f1_weighted"], 2)
    assert 0 < row["ci_low"] < row["difference"] < row["ci_high"]
    # The interval leaves 0 out, so the bootstrap p-value is under 5 % (and at least 2 / 1001).
    assert 2 / 1001 <= row["p_value"] < 0.05


def test_repeated_items_are_an_error_naming_the_sheet() -> None:
    answers = hallucination(right=50)
    sheets = {
        ("hallucination", "listen"): pd.concat([answers, answers.iloc[:1]]),
        ("hallucination", "text_ceiling"): answers,
    }
    with pytest.raises(ValueError, match="hallucination/listen: the answer sheet repeats item_id 'item-0'"):
        comparisons_table(sheets, ["listen", "text_ceiling"], "text_ceiling")


# --------------------------------------------------------------------------- plot


def test_plot_draws_intervals_and_chance_lines(tmp_path: Path) -> None:
    sheets = {("hallucination", "listen"): hallucination(right=90), ("hallucination", "text_ceiling"): always_no()}
    statistics = scope_statistics(sheets)
    table = results_table(TABLE4, {key: job(*key, answers) for key, answers in sheets.items()}, ["listen"], {}, None)
    low, high, chance = cell_intervals(TABLE4, ["listen", "text_ceiling"], statistics)
    assert list(low.columns) == [name for name in table_columns(TABLE4)]
    assert low.loc["listen", "hallucination_acc"] < 90.0 < high.loc["listen", "hallucination_acc"]
    assert np.isnan(low.loc["listen", "edansa_f1"])
    assert chance["hallucination_acc"] == 60.0 and "hallucination_yes_rate" not in chance
    path = tmp_path / "table4.png"
    plot_results_table(table, path, "with intervals", low=low, high=high, chance=chance)
    assert matplotlib.image.imread(path).shape[:2] == (600, 1200)


def test_the_instruction_following_cell_shows_the_interval_of_the_rate_it_shows() -> None:
    def rates(close: float | None, rate: float) -> ScopeStatistics:
        values = {"if_rate": rate} if close is None else {"if_close": close, "if_rate": rate}
        low, high = ({name: value + shift for name, value in values.items()} for shift in (-5.0, 5.0))
        return ScopeStatistics(items=20, values=values, low=low, high=high, chance={name: None for name in values})

    statistics = {
        ("instruction_following", "speech_ifeval", OVERALL): rates(close=80.0, rate=60.0),
        ("instruction_following", "built", OVERALL): rates(close=None, rate=70.0),
    }
    low, high, _ = cell_intervals(TABLE5, ["speech_ifeval", "built"], statistics)
    # Speech-IFEval's if_close cell is its closed-ended rate; the built constraints, all
    # closed-ended, measure only if_rate, which their if_close cell shows.
    assert (low.loc["speech_ifeval", "if_close"], high.loc["speech_ifeval", "if_close"]) == (75.0, 85.0)
    assert (low.loc["built", "if_close"], high.loc["built", "if_close"]) == (65.0, 75.0)
