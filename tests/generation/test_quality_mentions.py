"""The mention rate: how often targets that should describe their clip name a sound the clip has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from generation.clip_cases import clip_tables

from balsa_core.generation.quality import LOW_MENTION_RATE, mention_flags, quality_summary
from balsa_core.reports import QUALITY_COLUMNS, generation_quality_table

# (seed texts of one clip, its tags, a positive target as a small instruction-tuned LLM writes it, mentions?)
MENTION_CASES = [
    (["A dog barks while rain falls"], [], "A dog is barking in the rain.", True),
    (["Church bells ring"], [], "You can hear the ringing of a church bell.", True),
    # Stemming makes inflections meet, both ways.
    (["Two dogs bark"], [], "Barking dogs.", True),
    (["A baby cries"], [], "The crying of babies.", True),
    (["Glass shatters"], [], "Breaking glasses.", True),
    # A paraphrase is missed.
    (["Glass shatters"], [], "Something breaks into pieces.", False),
    # Tags count as much as captions, underscores split FSD50K labels.
    (["Animal"], ["Dog", "Domestic animals, pets"], "A pet is heard.", True),
    (["Music"], ["Male_speech_and_man_speaking"], "A man talks.", True),
    # Stop words shared by seed and target name nothing: only the clip's sound words count.
    (["A man talks over background noise"], [], "There is some background noise in the audio.", False),
    (["Loud repeated sounds"], ["Siren"], "The sound repeats loudly.", False),
    # The small backbone's typical miss: an answer about something else, or a refusal.
    (["Siren"], ["Siren"], "I'm sorry, I cannot play audio. How can I help you today?", False),
    (["A cat meows"], ["Cat"], "The audio features a piano melody.", False),
    # A negated mention still counts: the check is lexical.
    (["Thunder"], ["Thunder"], "There is no thunder.", True),
    # All seeds of a clip count: the applause is only in the second caption.
    (["A crowd cheers", "Fans applaud at a stadium"], [], "People applauding.", True),
    # Case does not matter.
    (["A SIREN WAILS"], [], "sirens", True),
]


def test_mention_flags_on_realistic_answers():
    metadata, targets = clip_tables(MENTION_CASES)

    flags = mention_flags(targets, metadata)

    assert flags.index.equals(targets.index) and flags.dtype == bool and flags.name == "mention"
    assert flags.tolist() == [mentions for *_, mentions in MENTION_CASES]


@pytest.mark.parametrize(
    ("target", "mentions"),
    [
        ("A dog, then rain.", True),  # names both clips
        ("Only a dog here.", False),  # the second clip's rain is not named
        ("Rain.", False),
        ("The first clip is louder.", False),
    ],
)
def test_two_audio_targets_must_name_something_of_each_clip(target, mentions):
    metadata = pd.DataFrame({"clip_id": ["a", "b"], "seed_text": ["A dog barks", "Rain falls"], "tags": [[], []]})
    targets = pd.DataFrame({"clip_ids": [np.array(["a", "b"], dtype=object)], "target": [target]})

    assert mention_flags(targets, metadata).tolist() == [mentions]


def test_empty_targets_and_unknown_clips_mention_nothing():
    metadata = pd.DataFrame({"clip_id": ["a"], "seed_text": ["A dog barks"], "tags": [None]})
    targets = pd.DataFrame(
        {"clip_ids": [["a"], ["a"], ["unknown"], [], "a"], "target": ["", None, "A dog barks", "A dog", "Dogs"]}
    )

    assert mention_flags(targets, metadata).tolist() == [False, False, False, False, True]


def test_the_summary_rate_is_over_non_empty_targets():
    metadata, targets = clip_tables(MENTION_CASES)
    targets["mention"] = mention_flags(targets, metadata)
    targets["empty"] = False
    targets["finished"] = True

    summary = quality_summary(targets, leak_checked=False, mention_checked=True)

    expected = sum(mentions for *_, mentions in MENTION_CASES)
    assert summary["mentioning"] == expected
    assert summary["mention_rate"] == pytest.approx(expected / len(MENTION_CASES))
    assert summary["leaking"] is None


def quality_report(target_set, corpus, targets, empty, mentioning=None, leaking=None):
    return {
        "target_set": target_set,
        "corpus": corpus,
        "source": "backbone",
        "targets": targets,
        "empty": empty,
        "cut_off": 0,
        "leak_checked": leaking is not None,
        "leaking": leaking,
        "leak_rate": None,
        "mention_checked": mentioning is not None,
        "mentioning": mentioning,
        "mention_rate": None,
        "leaking_targets": "keep",
        "dropped": 0,
    }


def test_the_report_gives_the_mention_rate_beside_the_leak_rate_and_names_low_sets():
    table = generation_quality_table(
        [
            quality_report("positive", "a", 10, 0, mentioning=3),
            quality_report("positive", "b", 12, 2, mentioning=4),
            quality_report("rule_based", "a", 10, 0, mentioning=10),
            quality_report("negative", "a", 10, 0, leaking=4),
            quality_report("caption_both", "pairs", 8, 0, mentioning=4),
        ]
    ).set_index(["target_set", "corpus"])

    assert list(table.reset_index().columns) == QUALITY_COLUMNS
    # Over non-empty targets: 3 of 10, 4 of 10, 7 of 20 over both corpora.
    assert table.loc["positive", "mention_rate_pct"].to_dict() == {"a": 30.0, "b": 40.0, "all": 35.0}
    assert table.loc[("positive", "all"), "mentioning"] == 7
    assert table.loc[("rule_based", "a"), "mention_rate_pct"] == 100.0
    assert table.loc[("caption_both", "pairs"), "mention_rate_pct"] == 100.0 * LOW_MENTION_RATE
    # Absent-sound sets are checked for leaks, not mentions.
    assert np.isnan(table.loc[("negative", "a"), "mention_rate_pct"]) and pd.isna(
        table.loc[("negative", "a"), "mentioning"]
    )
    assert table.loc[("negative", "a"), "leak_rate_pct"] == 40.0
    low = table[table["notes"].str.contains("unlikely to teach grounding")]
    assert sorted(low.index) == [("positive", "a"), ("positive", "all"), ("positive", "b")]
    assert "30%" in table.loc[("positive", "a"), "notes"]
    assert (table.drop(index=low.index)["notes"] == "").all()


def test_reports_written_before_the_mention_check_read_as_unchecked():
    old = quality_report("positive", "a", 10, 0)
    for key in ("mention_checked", "mentioning", "mention_rate"):
        del old[key]

    table = generation_quality_table([old])

    assert table["mention_rate_pct"].isna().all() and table["mentioning"].isna().all()
    assert table["notes"].tolist() == [""]
