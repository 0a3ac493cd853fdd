"""The evaluation_tables stage (``write_evaluation_tables``, given its rows) end to end: Tables IV
and V, their plots, the details with intervals and chance levels, and the paired comparisons,
from metrics files and answer sheets."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from balsa_core.evaluation.registry import TABLE4, TABLE5, table_columns
from balsa_core.evaluation.suite import AnswerInstructions, prepare_items, score_replies
from balsa_core.evaluation.tables import DETAIL_COLUMNS
from balsa_core.evaluation.uncertainty import COMPARISON_COLUMNS
from balsa_core.stages.evaluate import read_evaluation_results, write_evaluation_tables

CHOICES = ["dog barking", "cat meowing", "car horn", "rain"]


def write_answers(directory: Path, evaluation: str, model: str, right: int, kind: str = "yes_no") -> Path:
    """A 20-item answer sheet with the first ``right`` items answered right: yes/no (half "no"),
    four-option (single- and multi-hop subsets) or instruction items."""
    path = directory / f"{evaluation}--{model}.answers.parquet"
    if kind == "instruction":
        sheet = pd.DataFrame(
            {
                "item_id": [f"if-{i}" for i in range(20)],
                "subset": "",
                "question_type": "instruction",
                "options": [[] for _ in range(20)],
                "gold": "{}",
                "parsed": ["followed" if i < right else "" for i in range(20)],
                "correct": [i < right for i in range(20)],
            }
        )
        sheet.to_parquet(path, index=False)
        return path
    golds = ["yes", "no"] * 10 if kind == "yes_no" else [CHOICES[i % 4] for i in range(20)]
    items = pd.DataFrame(
        {
            "item_id": [f"{evaluation}-{i}" for i in range(20)],
            "benchmark": evaluation,
            "subset": "" if kind == "yes_no" else ["single", "multi"] * 10,
            "audio_path": [f"/audio/{i}.wav" for i in range(20)],
            "question": "Which sound is it?",
            "choices": [[] if kind == "yes_no" else CHOICES for _ in range(20)],
            "answer": golds,
            "question_type": kind,
        }
    )
    prepared = prepare_items(items, AnswerInstructions(), shuffle_seed=0)
    wrong = {"yes": "no", "no": "yes"} | {choice: CHOICES[(CHOICES.index(choice) + 1) % 4] for choice in CHOICES}
    score_replies(prepared, [gold if i < right else wrong[gold] for i, gold in enumerate(golds)]).to_parquet(path)
    return path


def write_metrics(directory: Path, evaluation: str, model: str, overall: dict, subsets: dict | None = None) -> Path:
    path = directory / f"{evaluation}--{model}.json"
    path.write_text(
        json.dumps(
            {
                "evaluation": evaluation,
                "model": model,
                "items": 20,
                "answered": 20,
                "skipped": {},
                "overall": overall,
                "subsets": subsets or {},
            }
        )
    )
    return path


def test_evaluation_tables_end_to_end(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    hallucination = {"acc": 75.0, "f1_yes": 70.0, "f1_no": 80.0, "f1_weighted": 75.5, "yes_rate": 40.0, "unparsed": 5.0}
    paths = [
        write_metrics(metrics_dir, "hallucination", "listen", hallucination),
        write_metrics(metrics_dir, "hallucination", "text", {**hallucination, "acc": 90.0}),
        write_metrics(metrics_dir, "instruction_following", "listen", {"if_rate": 60.0}),
        write_metrics(metrics_dir, "instruction_following", "text", {"if_rate": 80.0}),
        write_metrics(
            metrics_dir, "sakura", "listen", {"acc": 50.0}, {"single": {"acc": 55.0}, "multi": {"acc": 45.0}}
        ),
    ]
    answers = [
        write_answers(metrics_dir, "hallucination", "listen", right=15),
        write_answers(metrics_dir, "hallucination", "text", right=18),
        write_answers(metrics_dir, "instruction_following", "listen", right=12, kind="instruction"),
        write_answers(metrics_dir, "instruction_following", "text", right=16, kind="instruction"),
        write_answers(metrics_dir, "sakura", "listen", right=10, kind="multiple_choice"),
    ]
    out = tmp_path / "results"
    outputs = {
        TABLE4: out / "table4.csv",
        "table4_plot": out / "figures" / "table4.png",
        TABLE5: out / "table5.csv",
        "table5_plot": out / "figures" / "table5.png",
        "details": out / "details.csv",
        "comparisons": out / "comparisons.csv",
    }
    write_evaluation_tables(
        paths, answers, ["text", "listen"], {"mmau": "set evaluation.benchmarks.mmau"}, "text", outputs
    )
    for key in ("table4_plot", "table5_plot"):
        assert matplotlib.image.imread(outputs[key]).shape[:2] == (600, 1200)

    table4 = pd.read_csv(outputs[TABLE4])
    assert list(table4.columns) == ["model", *table_columns(TABLE4), "valid", "notes"]
    # The text ceiling answers 18 of 20 yes/no items right, far above the 50 % chance.
    assert table4["valid"].tolist() == [True, True]
    assert not table4["notes"].str.contains("uninformative").any()
    assert table4["model"].tolist() == ["text", "listen"]
    assert table4["hallucination_acc"].tolist() == [90.0, 75.0]
    assert table4["edansa_f1"].isna().all()
    assert table4["notes"].str.contains("edansa: not evaluated for this model").all()

    table5 = pd.read_csv(outputs[TABLE5]).set_index("model")
    assert list(table5.columns) == [*table_columns(TABLE5), "valid", "notes"]
    # SAKURA has no text ceiling sheet; the instruction-following rate is not judged.
    assert table5["valid"].isna().all()
    assert "sakura: validity unknown, the text ceiling answered none of its items" in table5.loc["listen", "notes"]
    assert table5.loc["listen", "if_rate"] == 60.0
    assert table5.loc["listen", "if_forgetting_rate"] == -25.0
    assert np.isnan(table5.loc["text", "if_forgetting_rate"])
    assert table5.loc["listen", ["sakura_single_hop_acc", "sakura_multi_hop_acc"]].tolist() == [55.0, 45.0]
    assert table5["mmau_acc"].isna().all()
    assert table5["notes"].str.contains("mmau: set evaluation.benchmarks.mmau").all()

    details = pd.read_csv(outputs["details"], keep_default_na=False)
    assert list(details.columns) == DETAIL_COLUMNS
    assert len(details) == 2 * len(hallucination) + 2 + 3
    sakura = details[details["evaluation"] == "sakura"].set_index("subset")["value"].to_dict()
    assert sakura == {"all": 50.0, "single": 55.0, "multi": 45.0}
    # Every metric of the answer sheets has an interval; chance where it means something.
    listed = pd.read_csv(outputs["details"]).set_index(["evaluation", "model", "subset", "metric"])
    assert listed["ci_low"].notna().all() and (listed["ci_low"] <= listed["ci_high"]).all()
    assert listed.loc[("hallucination", "text", "all", "acc"), "chance"] == 50.0
    assert listed.loc[("hallucination", "text", "all", "acc"), "ci_low"] == pytest.approx(75.0, abs=10.0)
    assert listed.loc[("sakura", "listen", "single", "acc"), "chance"] == 25.0
    assert np.isnan(listed.loc[("instruction_following", "listen", "all", "if_rate"), "chance"])

    comparisons = pd.read_csv(outputs["comparisons"])
    assert list(comparisons.columns) == COMPARISON_COLUMNS
    assert comparisons[["evaluation", "metric", "model_a", "model_b", "items", "test"]].values.tolist() == [
        ["hallucination", "acc", "listen", "text", 20, "mcnemar_exact"],
        ["instruction_following", "if_rate", "listen", "text", 20, "mcnemar_exact"],
    ]
    # listen is right on a subset of text's items: 3 and 4 discordant pairs, all one way.
    assert comparisons["difference"].tolist() == [-15.0, -20.0]
    assert comparisons["p_value"].tolist() == pytest.approx([2 / 8, 2 / 16])


def test_metrics_and_answer_sheets_must_belong_together(tmp_path: Path) -> None:
    metrics = write_metrics(tmp_path, "hallucination", "listen", {"acc": 50.0})
    answers = write_answers(tmp_path, "hallucination", "listen", right=10)
    results, sheets = read_evaluation_results([metrics], [answers])
    assert list(results) == list(sheets) == [("hallucination", "listen")]
    with pytest.raises(ValueError, match="1 metrics files but 0 answer sheets"):
        read_evaluation_results([metrics], [])
    pd.read_parquet(answers).iloc[:5].to_parquet(answers)
    with pytest.raises(ValueError, match=r"listen.answers.parquet: 5 answered items, but .*listen.json says 20"):
        read_evaluation_results([metrics], [answers])
