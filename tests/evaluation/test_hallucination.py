from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from balsa_core.evaluation.hallucination import PHRASINGS, build_hallucination_items

VOCABULARY = [f"sound {index}" for index in range(40)] + ["dog", "siren", "speech", "rain"]


def make_clips(*clips: tuple[str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "clip_id": [clip_id for clip_id, _ in clips],
            "audio_path": [f"audio/{clip_id}.wav" for clip_id, _ in clips],
            "tags": [tags for _, tags in clips],
        }
    )


CLIPS = make_clips(("a", ["dog", "speech"]), ("b", ["siren"]), ("c", ["rain", "dog", "speech"]))


def build(clips: pd.DataFrame = CLIPS, negatives: int = 3, seed: int = 7) -> pd.DataFrame:
    return build_hallucination_items(clips, VOCABULARY, negatives_per_clip=negatives, seed=seed)


def test_phrasings_are_the_released_templates() -> None:
    assert [p.format(object="speech") for p in PHRASINGS] == [
        "Is there a sound of speech in the audio?",
        "Does the audio contain the sound of speech?",
        "Have you noticed the sound of speech in the audio?",
        "Can you hear the sound of speech in the audio?",
    ]


def test_columns_and_unique_item_ids() -> None:
    items = build()
    columns = ["item_id", "clip_id", "audio_path", "object", "label", "phrasing", "question", "tags"]
    assert list(items.columns) == columns
    assert items["item_id"].is_unique
    first = items.iloc[0]
    assert first["item_id"] == f"a|{first['object']}|0"
    assert first["audio_path"] == "audio/a.wav"
    assert first["tags"] == ["dog", "speech"]


def test_every_tag_positive_and_requested_negatives_per_clip() -> None:
    items = build(negatives=3)
    for clip_id, tags in zip(CLIPS["clip_id"], CLIPS["tags"]):
        clip_items = items[items["clip_id"] == clip_id]
        positives = clip_items[clip_items["label"] == "yes"]
        negatives = clip_items[clip_items["label"] == "no"]
        assert sorted(positives["object"].unique()) == sorted(tags)
        assert negatives["object"].nunique() == 3
        assert len(clip_items) == 4 * (len(tags) + 3)


def test_negatives_never_among_clip_tags_even_with_other_casing() -> None:
    clips = make_clips(("a", ["Dog", "speech"]))
    vocabulary = ["dog", "SPEECH", "cat", "rain"]
    items = build_hallucination_items(clips, vocabulary, negatives_per_clip=5, seed=0)
    negatives = set(items.loc[items["label"] == "no", "object"])
    assert negatives == {"cat", "rain"}  # fewer than asked: only two absent words exist


def test_each_object_asked_in_the_four_phrasings() -> None:
    items = build()
    for (_, obj), group in items.groupby(["clip_id", "object"]):
        assert sorted(group["phrasing"]) == [0, 1, 2, 3]
        questions = list(group.sort_values("phrasing")["question"])
        assert questions == [template.format(object=obj) for template in PHRASINGS]
        assert group["label"].nunique() == 1


def test_row_order_follows_released_files() -> None:
    # Released files: per clip, per phrasing, positives first.
    items = build(make_clips(("a", ["dog", "speech"])), negatives=2)
    assert list(items["phrasing"]) == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    assert list(items["label"][:4]) == ["yes", "yes", "no", "no"]


def negative_objects(items: pd.DataFrame) -> list[str]:
    return list(items.loc[items["label"] == "no", "object"])


def test_deterministic_given_seed() -> None:
    pd.testing.assert_frame_equal(build(seed=11), build(seed=11))
    assert negative_objects(build(seed=11)) != negative_objects(build(seed=12))


def test_negatives_independent_of_other_clips() -> None:
    alone = build(make_clips(("c", ["rain", "dog", "speech"])))
    among_others = build(CLIPS.iloc[::-1])
    pd.testing.assert_frame_equal(among_others[among_others["clip_id"] == "c"].reset_index(drop=True), alone)


def test_negatives_are_roughly_uniform() -> None:
    clips = make_clips(*[(f"clip{index}", ["dog"]) for index in range(2000)])
    vocabulary = ["dog", "cat", "rain", "siren", "speech"]
    items = build_hallucination_items(clips, vocabulary, negatives_per_clip=1, seed=3)
    counts = items.loc[(items["label"] == "no") & (items["phrasing"] == 0), "object"].value_counts()
    assert set(counts.index) == {"cat", "rain", "siren", "speech"}
    assert counts.min() > 400 and counts.max() < 600  # expected 500 each


def test_tags_from_parquet_style_arrays() -> None:
    clips = make_clips(("a", ["dog"]))
    clips.at[0, "tags"] = np.array(["dog", "siren"])
    items = build(clips)
    assert set(items.loc[items["label"] == "yes", "object"]) == {"dog", "siren"}


@pytest.mark.parametrize("empty_tags", [[], None, ["", "  "]])
def test_tagless_clip_is_an_error_naming_it(empty_tags) -> None:
    clips = make_clips(("fine", ["dog"]), ("silent-clip", ["x"]))
    clips.at[1, "tags"] = empty_tags
    with pytest.raises(ValueError, match="silent-clip"):
        build(clips)


def test_repeated_clip_is_an_error() -> None:
    with pytest.raises(ValueError, match="not unique"):
        build(make_clips(("a", ["dog"]), ("a", ["rain"])))


def test_no_clips_gives_empty_table_with_columns() -> None:
    items = build(make_clips())
    assert items.empty and "item_id" in items.columns


# POPE's samplings over a small corpus: dog and speech occur together twice, dog is the
# most frequent tag (4 clips), then speech (3), then rain and siren (2 each), then car (1).
CORPUS = [["dog", "speech"], ["dog", "speech", "rain"], ["dog", "siren"], ["dog", "speech"], ["rain", "siren", "car"]]
STATISTICS_VOCABULARY = ["car", "rain", "siren", "speech", "dog", "bell"]


def negatives_for(tags: list[str], sampling: str, count: int = 2) -> list[str]:
    items = build_hallucination_items(
        make_clips(("x", tags)), STATISTICS_VOCABULARY, count, seed=0, sampling=sampling, corpus_tags=CORPUS
    )
    return items.loc[(items["label"] == "no") & (items["phrasing"] == 0), "object"].tolist()


def test_popular_negatives_are_the_most_frequent_absent_tags() -> None:
    assert negatives_for(["siren"], "popular") == ["dog", "speech"]
    assert negatives_for(["dog"], "popular", count=3) == ["speech", "rain", "siren"]


def test_adversarial_negatives_co_occur_most_with_the_clip_tags() -> None:
    # speech shares 3 clips with dog; siren and rain share 1 each, then frequency breaks the tie
    # (both 2), then the vocabulary's order (rain before siren).
    assert negatives_for(["dog"], "adversarial", count=3) == ["speech", "rain", "siren"]
    # For car: rain and siren share its clip; both occur twice; vocabulary order decides.
    assert negatives_for(["car"], "adversarial") == ["rain", "siren"]


def test_ranked_samplings_never_return_present_tags_and_reject_unknown_names() -> None:
    for sampling in ("popular", "adversarial"):
        assert not {"dog", "speech"} & set(negatives_for(["dog", "speech"], sampling, count=10))
    with pytest.raises(ValueError, match="sampling 'hard'"):
        negatives_for(["dog"], "hard")
