"""Grounding scores on hand-made replies and tags: recall, precision, the control clip by
derangement, and the table with its paired bootstrap interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from balsa_core.evaluation.grounding import (
    QUESTION_TYPE,
    TABLE_COLUMNS,
    build_grounding_items,
    control_pairing,
    grounding_metrics,
    grounding_row,
    grounding_table,
    score_grounding,
)
from balsa_core.evaluation.loaders.common import ITEM_COLUMNS
from balsa_core.generation.quality import sound_terms

CLIPS = pd.DataFrame(
    {
        "clip_id": ["dog", "rain", "siren", "cat"],
        "audio_path": ["/a/dog.wav", "/a/rain.wav", "/a/siren.wav", "/a/cat.wav"],
        "tags": [["Dog", "Bark"], ["Rain"], ["Siren", "Vehicle"], ["Cat", "Meow"]],
    }
)
VOCABULARY = ["Dog", "Bark", "Rain", "Siren", "Vehicle", "Cat", "Meow", "Bird", "Chirp"]


def items_with_controls(controls: dict[str, str]) -> pd.DataFrame:
    """The items of CLIPS with the control clips given by hand."""
    items = build_grounding_items(CLIPS, VOCABULARY, "Replay the audio.", seed=0)
    tags = dict(zip(CLIPS["clip_id"], CLIPS["tags"]))
    return items.assign(
        control_clip_id=[controls[clip] for clip in items["clip_id"]],
        control_tags=[tags[controls[clip]] for clip in items["clip_id"]],
    )


# --------------------------------------------------------------------------- control pairing


@pytest.mark.parametrize("count", [2, 3, 7, 50])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_control_pairing_is_a_derangement(count, seed):
    terms = [frozenset({f"sound{index}"}) for index in range(count)]
    partner = control_pairing(terms, seed)
    assert sorted(partner) == list(range(count)), "a permutation: each clip is a control once"
    assert all(partner[index] != index for index in range(count)), "no clip is its own control"


def test_the_control_pairing_is_seeded():
    terms = [frozenset({f"sound{index}"}) for index in range(20)]
    assert control_pairing(terms, 3).tolist() == control_pairing(terms, 3).tolist()
    assert control_pairing(terms, 3).tolist() != control_pairing(terms, 4).tolist()


@pytest.mark.parametrize("seed", range(10))
def test_the_control_has_other_tags_wherever_possible(seed):
    # Three clips share "dog": each must get a rain or siren clip as its control.
    terms = [frozenset({"dog"})] * 3 + [frozenset({"rain"}), frozenset({"siren"}), frozenset({"rain"})]
    partner = control_pairing(terms, seed)
    assert all(terms[partner[index]] != terms[index] for index in range(len(terms)))
    assert all(partner[index] != index for index in range(len(terms)))


def test_identical_clips_still_get_a_derangement():
    terms = [frozenset({"dog"})] * 4
    partner = control_pairing(terms, 0)
    assert sorted(partner) == [0, 1, 2, 3] and all(partner[index] != index for index in range(4))


def test_one_clip_has_no_control():
    with pytest.raises(ValueError, match="at least two clips"):
        control_pairing([frozenset({"dog"})], 0)


# --------------------------------------------------------------------------- items


def test_items_follow_the_item_schema_with_their_control_and_vocabulary():
    items = build_grounding_items(CLIPS, VOCABULARY, "Replay the audio.", seed=0)
    assert list(items.columns[: len(ITEM_COLUMNS)]) == list(ITEM_COLUMNS)
    assert items["item_id"].tolist() == ["grounding|dog", "grounding|rain", "grounding|siren", "grounding|cat"]
    assert (items["question"] == "Replay the audio.").all() and (items["question_type"] == QUESTION_TYPE).all()
    assert items.loc[0, "answer"] == "Dog, Bark" and items.loc[0, "tags"] == ["Dog", "Bark"]
    assert (items["control_clip_id"] != items["clip_id"]).all()
    tags = dict(zip(CLIPS["clip_id"], CLIPS["tags"]))
    assert [tags[clip] for clip in items["control_clip_id"]] == items["control_tags"].tolist()
    # The vocabulary is stemmed: "bark" and "chirp" as the scorer sees them, once each.
    assert items.loc[0, "vocabulary"] == sorted(sound_terms(VOCABULARY))
    assert "chirp" in items.loc[0, "vocabulary"]


def test_items_are_determined_by_the_seed():
    first = build_grounding_items(CLIPS, VOCABULARY, "Describe.", seed=5)
    pd.testing.assert_frame_equal(first, build_grounding_items(CLIPS, VOCABULARY, "Describe.", seed=5))


def test_a_clip_whose_tags_name_no_sound_is_refused():
    clips = pd.concat([CLIPS, pd.DataFrame({"clip_id": ["noise"], "audio_path": ["/n.wav"], "tags": [["Noise"]]})])
    with pytest.raises(ValueError, match="no content word.*noise"):
        build_grounding_items(clips, VOCABULARY, "Replay the audio.", seed=0)


# --------------------------------------------------------------------------- scores

CONTROLS = {"dog": "rain", "rain": "siren", "siren": "cat", "cat": "dog"}


def test_recall_precision_and_the_control_on_hand_made_replies():
    items = items_with_controls(CONTROLS)
    replies = [
        "A dog is barking loudly.",  # dog: both tag words; control rain: none
        "Birds chirp while it rains.",  # rain: its one word, and "bird", "chirp" of other clips
        "The audio features a piano.",  # siren: names no vocabulary word
        "A dog and a cat.",  # cat: one of two; control dog: one of two
    ]
    scored = score_grounding(items, replies).set_index("clip_id")

    assert scored.loc["dog", "named"] == ["bark", "dog"]
    assert scored.loc["dog", ["recall", "precision", "control_recall", "control_precision"]].tolist() == [
        1.0,
        1.0,
        0.0,
        0.0,
    ]
    assert scored.loc["rain", "recall"] == 1.0 and scored.loc["rain", "precision"] == pytest.approx(1 / 3)
    assert scored.loc["rain", "control_recall"] == 0.0
    assert scored.loc["siren", "recall"] == 0.0 and math.isnan(scored.loc["siren", "precision"])
    assert scored.loc["cat", ["recall", "control_recall", "precision", "control_precision"]].tolist() == [
        0.5,
        0.5,
        0.5,
        0.5,
    ]
    assert scored["grounding"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert scored["reply"].tolist() == replies


def test_stop_words_and_words_outside_the_vocabulary_name_nothing():
    items = items_with_controls(CONTROLS)
    replies = ["Background noise, a sound in the distance.", "Thunder.", "", None]
    scored = score_grounding(items, replies)
    assert scored["named"].map(len).tolist() == [0, 0, 0, 0]
    assert (scored["recall"] == 0).all() and scored["precision"].isna().all()


def test_metrics_are_percentages_and_precision_is_over_replies_naming_a_tag():
    scored = score_grounding(
        items_with_controls(CONTROLS), ["A dog barks.", "Rain and a bird.", "Piano.", "A dog and a cat."]
    )
    overall = grounding_metrics(scored)["overall"]
    assert overall["recall"] == pytest.approx(100 * (1 + 1 + 0 + 0.5) / 4)
    assert overall["control_recall"] == pytest.approx(100 * 0.5 / 4)
    assert overall["precision"] == pytest.approx(100 * (1 + 0.5 + 0.5) / 3)
    assert overall["grounding"] == pytest.approx(overall["recall"] - overall["control_recall"])
    nothing = score_grounding(items_with_controls(CONTROLS), ["Piano."] * 4)
    assert "precision" not in grounding_metrics(nothing)["overall"]


def test_replies_must_match_the_items():
    with pytest.raises(ValueError, match="3 replies for 4 items"):
        score_grounding(items_with_controls(CONTROLS), ["a", "b", "c"])


# --------------------------------------------------------------------------- the table


def scored_frame(recall: list[float], control_recall: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "recall": recall,
            "precision": recall,
            "control_recall": control_recall,
            "control_precision": control_recall,
            "grounding": np.subtract(recall, control_recall),
        }
    )


def test_a_grounded_model_has_an_interval_above_zero_and_a_blind_one_around_it():
    rng = np.random.default_rng(0)
    grounded = scored_frame(list(rng.uniform(0.5, 1.0, 60)), list(rng.uniform(0.0, 0.3, 60)))
    blind_recall = list(rng.uniform(0.0, 1.0, 60))
    blind = scored_frame(blind_recall, list(rng.permutation(blind_recall)))

    table = grounding_table({"untrained": blind, "listen": grounded}, seed=0).set_index("model")

    assert list(table.reset_index().columns) == TABLE_COLUMNS
    assert table.loc["listen", "grounding_low"] > 0
    assert table.loc["untrained", "grounding_low"] < 0 < table.loc["untrained", "grounding_high"]
    assert table.loc["untrained", "grounding"] == pytest.approx(0.0, abs=1e-9)
    for model in ("listen", "untrained"):
        row = table.loc[model]
        assert row["grounding_low"] <= row["grounding"] <= row["grounding_high"]
        assert row["grounding"] == pytest.approx(row["recall"] - row["control_recall"], abs=0.011)
    assert table["items"].tolist() == [60, 60]


def test_the_interval_is_seeded():
    rng = np.random.default_rng(1)
    scored = scored_frame(list(rng.uniform(0, 1, 30)), list(rng.uniform(0, 1, 30)))
    first = grounding_row("m", scored, seed=3, resamples=200)
    assert first == grounding_row("m", scored, seed=3, resamples=200)
    assert first["grounding_low"] != grounding_row("m", scored, seed=4, resamples=200)["grounding_low"]


def test_a_model_with_nothing_answered_has_an_empty_row():
    row = grounding_row("untrained", scored_frame([], []), seed=0)
    assert row["items"] == 0
    assert all(math.isnan(row[column]) for column in TABLE_COLUMNS if column not in ("model", "items"))
