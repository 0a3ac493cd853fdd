"""Tables IV and V from evaluation metrics, their long form, and their bar charts."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from balsa_core.evaluation import registry
from balsa_core.evaluation.registry import IF_OPEN_NOTE, TABLE4, TABLE5, table_columns
from balsa_core.evaluation.tables import DETAIL_COLUMNS, details_table, results_table
from balsa_core.reports import plot_results_table

MODELS = ["text-ceiling", "listen", "openaqa"]


def metrics(evaluation: str, model: str, overall: dict, subsets: dict | None = None, **coverage) -> dict:
    items = coverage.get("items", 100)
    return {
        "evaluation": evaluation,
        "model": model,
        "items": items,
        "answered": coverage.get("answered", items),
        "skipped": coverage.get("skipped", {}),
        "overall": overall,
        "subsets": subsets or {},
    }


def results(*entries: dict) -> dict:
    return {(entry["evaluation"], entry["model"]): entry for entry in entries}


HALLUCINATION = {
    "acc": 61.23456,
    "f1_yes": 70.0,
    "f1_no": 45.555,
    "f1_weighted": 58.004,
    "yes_rate": 80.0,
    "unparsed": 1.005,
    "precision_weighted": 50.0,
}


def table4_results() -> dict:
    return results(
        *(metrics("hallucination", model, HALLUCINATION) for model in MODELS),
        *(metrics("edansa", model, {"f1_weighted": 40.0 + i, "acc": 50.0}) for i, model in enumerate(MODELS)),
        *(metrics("clotho_aqa", model, {"acc": 30.0, "unparsed": 2.0}) for model in MODELS),
        metrics("cochlscene", "listen", {"f1_weighted": 33.333}),
    )


# --------------------------------------------------------------------------- table 4


def test_table4_columns_rows_and_rounding() -> None:
    table = results_table(TABLE4, table4_results(), MODELS, {"nonspeech7k": "set evaluation.benchmarks"}, None)
    assert list(table.columns) == ["model", *table_columns(TABLE4), "valid", "notes"]
    # Nothing judged the evaluations: validity unknown in every row.
    assert table["valid"].isna().all()
    assert list(table["model"]) == MODELS
    listen = table.set_index("model").loc["listen"]
    assert listen["hallucination_acc"] == 61.23
    assert listen["hallucination_f1_no"] == 45.56
    assert listen["hallucination_f1_weighted"] == 58.0
    assert listen["hallucination_unparsed"] == 1.0
    assert listen["edansa_f1"] == 41.0
    assert listen["clotho_aqa_acc"] == 30.0
    assert listen["cochlscene_f1"] == 33.33
    # Rows keep the models' order, not the results' order.
    reordered = results_table(TABLE4, table4_results(), MODELS[::-1], {}, None)
    assert list(reordered["model"]) == MODELS[::-1]
    assert list(reordered["edansa_f1"]) == [42.0, 41.0, 40.0]


def test_unconfigured_evaluation_is_empty_and_named_in_the_notes() -> None:
    why = "set evaluation.benchmarks.nonspeech7k"
    table = results_table(TABLE4, table4_results(), MODELS, {"nonspeech7k": why, "sakura": "not in table4"}, None)
    assert table["nonspeech7k_f1"].isna().all()
    for note in table["notes"]:
        assert f"nonspeech7k: {why}" in note
        # Only this table's evaluations are noted.
        assert "sakura" not in note


def test_a_model_missing_an_evaluation_is_noted() -> None:
    table = results_table(TABLE4, table4_results(), MODELS, {}, None).set_index("model")
    assert math.isnan(table.loc["openaqa", "cochlscene_f1"])
    assert "cochlscene: not evaluated for this model" in table.loc["openaqa", "notes"]
    assert "cochlscene" not in table.loc["listen", "notes"]


def test_skipped_items_are_noted_with_counts() -> None:
    entries = table4_results()
    entries["edansa", "listen"] = metrics(
        "edansa", "listen", {"f1_weighted": 20.0}, items=50, answered=45, skipped={"missing audio": 5, "too long": 0}
    )
    entries["clotho_aqa", "listen"] = metrics(
        "clotho_aqa", "listen", {}, items=10, answered=0, skipped={"missing audio": 10}
    )
    table = results_table(TABLE4, entries, MODELS, {}, None).set_index("model")
    notes = table.loc["listen", "notes"]
    assert "edansa: 5 of 50 items skipped (missing audio)" in notes
    assert "too long" not in notes
    assert "clotho_aqa: nothing to score (missing audio)" in notes
    assert math.isnan(table.loc["listen", "clotho_aqa_acc"])
    assert table.loc["listen", "edansa_f1"] == 20.0
    assert "skipped" not in table.loc["openaqa", "notes"]


# --------------------------------------------------------------------------- table 5


def table5_results(text_rate: float | None = 80.0) -> dict:
    entries = [
        metrics(
            "sakura",
            model,
            {"acc": 55.0},
            {"single": {"acc": 60.0 + i}, "multi": {"acc": 50.0 - i}},
        )
        for i, model in enumerate(MODELS)
    ]
    rates = {"listen": 70.0, "openaqa": 90.12345}
    if text_rate is not None:
        rates["text-ceiling"] = text_rate
    entries += [metrics("instruction_following", model, {"if_rate": rate}) for model, rate in rates.items()]
    entries.append(
        metrics(
            "synonym_hypernym",
            "listen",
            {"precision_weighted": 61.0, "recall_weighted": 62.0, "f1_weighted": 61.499},
        )
    )
    return results(*entries)


def test_table5_columns_and_sakura_subsets() -> None:
    table = results_table(TABLE5, table5_results(), MODELS, {}, "text-ceiling")
    assert list(table.columns) == ["model", *table_columns(TABLE5), "valid", "notes"]
    assert {"if_close", "if_open", "if_rate", "if_forgetting_rate"} <= set(table.columns)
    rows = table.set_index("model")
    assert rows["sakura_acc"].tolist() == [55.0, 55.0, 55.0]
    assert rows["sakura_single_hop_acc"].tolist() == [60.0, 61.0, 62.0]
    assert rows["sakura_multi_hop_acc"].tolist() == [50.0, 49.0, 48.0]
    assert rows.loc["listen", ["synonym_hypernym_precision", "synonym_hypernym_recall"]].tolist() == [61.0, 62.0]
    assert rows.loc["listen", "synonym_hypernym_f1"] == 61.5
    assert rows.loc["openaqa", ["synonym_hypernym_precision", "mmau_acc"]].isna().all()


def test_instruction_following_columns_and_forgetting_rate() -> None:
    table = results_table(TABLE5, table5_results(), MODELS, {}, "text-ceiling").set_index("model")
    assert table["if_close"].tolist() == [80.0, 70.0, 90.12]
    assert table["if_rate"].tolist() == table["if_close"].tolist()
    assert table["if_open"].isna().all()
    # (audio - text) / text * 100 against the text model's 80 %.
    assert table.loc["listen", "if_forgetting_rate"] == -12.5
    assert table.loc["openaqa", "if_forgetting_rate"] == round((90.12345 - 80) / 80 * 100, 2) == 12.65
    assert math.isnan(table.loc["text-ceiling", "if_forgetting_rate"])
    for note in table["notes"]:
        assert IF_OPEN_NOTE in note
        assert "if_forgetting_rate" not in note


def test_forgetting_rate_is_noted_when_there_is_no_text_model() -> None:
    for entries, text_model in ((table5_results(), None), (table5_results(text_rate=None), "text-ceiling")):
        table = results_table(TABLE5, entries, MODELS, {}, text_model).set_index("model")
        assert table.loc[["listen", "openaqa"], "if_forgetting_rate"].isna().all()
        assert "if_forgetting_rate: needs the text-only backbone's rate" in table.loc["listen", "notes"]
        assert table.loc["listen", "if_rate"] == 70.0


def test_unconfigured_instruction_following_leaves_all_if_columns_empty() -> None:
    entries = {key: value for key, value in table5_results().items() if key[0] != "instruction_following"}
    table = results_table(TABLE5, entries, MODELS, {"instruction_following": "disabled"}, "text-ceiling")
    assert table[list(registry.IF_COLUMNS)].isna().all(axis=None)
    assert all(note.startswith("instruction_following: disabled") for note in table["notes"])
    assert not any(IF_OPEN_NOTE in note for note in table["notes"])


# --------------------------------------------------------------------------- details


def test_details_table_long_form() -> None:
    entries = results(
        metrics("sakura", "listen", {"acc": 55.556}, {"single": {"acc": 60.0}}, answered=90),
        metrics("hallucination", "listen", {"f1_yes": 70.0, "acc": 61.234}),
    )
    details = details_table(entries)
    assert list(details.columns) == DETAIL_COLUMNS
    # Without answer sheets' statistics the intervals and chance levels stay empty.
    assert details[["ci_low", "ci_high", "chance"]].isna().all(axis=None)
    assert details[DETAIL_COLUMNS[:6]].to_dict("records") == [
        {
            "evaluation": "hallucination",
            "subset": "all",
            "model": "listen",
            "answered": 100,
            "metric": "acc",
            "value": 61.23,
        },
        {
            "evaluation": "hallucination",
            "subset": "all",
            "model": "listen",
            "answered": 100,
            "metric": "f1_yes",
            "value": 70.0,
        },
        {"evaluation": "sakura", "subset": "all", "model": "listen", "answered": 90, "metric": "acc", "value": 55.56},
        {"evaluation": "sakura", "subset": "single", "model": "listen", "answered": 90, "metric": "acc", "value": 60.0},
    ]
    assert list(details_table({}).columns) == DETAIL_COLUMNS
    assert details_table({}).empty


# --------------------------------------------------------------------------- plots


def png_size(path: Path) -> tuple[int, int]:
    assert path.stat().st_size > 0
    height, width = matplotlib.image.imread(path).shape[:2]
    return width, height


@pytest.mark.parametrize("table", [TABLE4, TABLE5])
def test_plot_results_table_with_values(tmp_path: Path, table: str) -> None:
    entries = table4_results() if table == TABLE4 else table5_results()
    frame = results_table(table, entries, MODELS, {}, "text-ceiling")
    assert frame[table_columns(table)].isna().any(axis=None)  # some all-empty columns are left out
    path = tmp_path / "figures" / f"{table}.png"
    plot_results_table(frame, path, f"{table} results")
    assert png_size(path) == (1200, 600)


def test_plot_results_table_with_negative_values_and_one_model(tmp_path: Path) -> None:
    frame = results_table(TABLE5, table5_results(text_rate=100.0), ["listen"], {}, "text-ceiling")
    assert frame.loc[0, "if_forgetting_rate"] == -30.0
    path = tmp_path / "table5.png"
    plot_results_table(frame, path, "one model")
    assert png_size(path) == (1200, 600)


def test_plot_results_table_without_any_measured_column(tmp_path: Path) -> None:
    frame = results_table(TABLE4, {}, MODELS, {name: "not configured" for name in registry.EVALUATIONS}, None)
    assert frame[table_columns(TABLE4)].isna().all(axis=None)
    path = tmp_path / "empty.png"
    plot_results_table(frame, path, "nothing run")
    assert png_size(path) == (1200, 600)


def test_plot_results_table_of_no_models_is_an_error(tmp_path: Path) -> None:
    frame = results_table(TABLE4, table4_results(), [], {}, None)
    assert frame.empty
    with pytest.raises(ValueError, match="no models"):
        plot_results_table(frame, tmp_path / "none.png", "empty")
    assert not (tmp_path / "none.png").exists()


def test_plot_ignores_unparsed_columns_only_table(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"model": ["a", "b"], "hallucination_unparsed": [1.0, 2.0], "mmau_acc": [np.nan, np.nan], "notes": ["", ""]}
    )
    path = tmp_path / "unparsed.png"
    plot_results_table(frame, path, "only data-quality columns")
    assert png_size(path) == (1200, 600)
