"""The leak check of absent-sound targets (stems, sound terms, leak_flags) and the quality summary."""

from __future__ import annotations

import json
import random
import time

import numpy as np
import pandas as pd
import pytest
from generation.clip_cases import clip_tables

from balsa_core.generation.quality import (
    STOP_WORDS,
    leak_flags,
    names_present_sound,
    quality_summary,
    sound_terms,
    stem,
)

# (seed texts of one clip, its tags, a negative target as a small instruction-tuned LLM writes it, leaks?)
LEAK_CASES = [
    # Clean lists of absent sounds.
    (["A dog barks while rain falls"], [], "Absent sounds: birds chirping, a car horn, church bells.", False),
    (
        ["An engine hums, a siren wails and birds chirp"],
        [],
        "1. A dog barking\n2. A baby crying\n3. Church bells",
        False,
    ),
    (["Water drips from a faucet"], [], "Absent: a flushing toilet, a hair dryer.", False),
    (["A phone rings"], [], "**Absent sounds:**\n- Doorbell\n- Typing on a keyboard", False),
    (["Two dogs bark"], [], "3 cats and 2 cows mooing", False),
    (["Rain falls on a tin roof"], [], "The audio contains no thunder, only silence.", False),
    (["A man speaks"], [], "Absent: a woman singing, a baby crying.", False),
    # Stemming makes inflections meet.
    (["A dog barks while rain falls"], [], "Sounds not present: thunder, a barking dog, traffic.", True),
    (["A clock ticks as an alarm beeps"], [], "Absent sounds include:\n- a ticking clock\n- footsteps", True),
    (["Glass shatters on the floor"], [], "Contrasting absent sounds: breaking glasses, a kettle.", True),
    (["Someone whistles a tune"], [], "Absent: a referee's whistle blowing.", True),
    (["A baby cries"], [], "Sounds that are absent: a crying baby.", True),
    (["Water drips from a faucet"], [], "The absent sounds are dripping water and a flushing toilet.", True),
    (["A train horn blows as the train passes"], [], "A passing train is absent, as is a plane.", True),
    (["A phone rings"], [], "**Absent sounds:**\n- Doorbell\n- Phone ringing", True),
    # Tags count as much as captions, underscores split FSD50K labels.
    (["chirping birds"], ["chirping birds"], "One of the sounds that are absent is the chirping of birds.", True),
    (["Music"], ["Male_speech_and_man_speaking", "Music"], "Sounds not present: a man speaking loudly.", True),
    (["Speech"], ["Speech"], "Absent: speech, laughter, applause.", True),
    # Stop words shared by seed and target do not leak: only "music" counts here, and it is absent.
    (["A man talks over background noise"], [], "The audio does not contain any background music.", False),
    (["Someone knocks on a door"], [], "Someone is typing on a keyboard; this sound is absent.", False),
    (["People talk in a crowded restaurant"], [], "People cheering at a stadium would be absent.", False),
    (["A cat meows repeatedly in the distance"], [], "Absent sounds: a dog barking repeatedly in the distance.", False),
    (["Quiet background noise with distant traffic"], [], "There is no loud noise in the background, no music.", False),
    # Case does not matter.
    (["A SIREN WAILS"], [], "absent: sirens, dogs.", True),
    (["a siren wails"], [], "ABSENT: POLICE SIRENS", True),
    # Expected lexical behaviour, not judgement: negation is unread, so denying a present sound leaks ...
    (["Siren, Vehicle"], ["Siren", "Vehicle"], "There are no sirens in this audio, only birdsong and wind.", True),
    (["Church bells ring as crickets chirp"], [], "No church bells can be heard; traffic and rain are absent.", True),
    # ... a shared word leaks even when it names another source ...
    (["Birds are chirping loudly"], [], "Absent sounds: the chirp of a smoke detector.", True),
    (["Wind blows through trees"], [], "Contrasting absent sounds: wind chimes.", True),
    # ... and paraphrase, irregular forms and compounds slip through.
    (["A man speaks"], [], "Absent sounds: human speech, music.", False),
    (["Thunder rumbles during a heavy rainstorm"], [], "Absent: light rain, birds.", False),
    # Echoes of the prompt and chatter name no sound.
    (["A car horn honks as rain falls"], [], "I'm ready to assist. What's your next question?", False),
    (
        ["Footsteps clack on a floor"],
        [],
        "To identify sounds that are absent as contrasting examples, let's consider:",
        False,
    ),
    # All seeds of a clip count: the applause is only in the second caption.
    (["A crowd cheers", "Fans applaud at a stadium"], [], "Absent: people applauding, an announcer.", True),
]


@pytest.mark.parametrize(("seeds", "tags", "target", "leaks"), LEAK_CASES)
def test_names_present_sound_on_realistic_answers(seeds, tags, target, leaks):
    assert names_present_sound(target, sound_terms([*seeds, *tags])) is leaks


def test_leak_flags_matches_the_table_row_by_row():
    metadata, targets = clip_tables(LEAK_CASES)

    flags = leak_flags(targets, metadata)

    assert flags.index.equals(targets.index)
    assert flags.dtype == bool
    assert flags.tolist() == [leaks for *_, leaks in LEAK_CASES]
    assert len(LEAK_CASES) >= 25 and 0 < flags.sum() < len(flags)


@pytest.mark.parametrize(
    "forms",
    [
        ["bark", "barks", "barking", "barked"],
        ["dog", "dogs"],
        ["siren", "sirens"],
        ["chirp", "chirps", "chirping", "chirped"],
        ["glass", "glasses"],
        ["speak", "speaks", "speaking"],
        ["speech", "speeches"],
        ["whistle", "whistles", "whistling", "whistled"],
        ["hum", "hums", "humming", "hummed"],
        ["buzz", "buzzes", "buzzing", "buzzed"],
        ["purr", "purrs", "purring"],
        ["cry", "cries", "crying", "cried"],
        ["baby", "babies"],
        ["ring", "rings", "ringing"],
        ["horse", "horses"],
        ["bus", "buses"],
        ["crash", "crashes"],
        ["drip", "drips", "dripping", "dripped"],
        ["sneeze", "sneezes", "sneezing"],
    ],
)
def test_stem_joins_inflections(forms):
    assert len({stem(form) for form in forms}) == 1


def test_stem_keeps_words_whole_where_stripping_would_mangle_them():
    assert stem("glass") == "glass"
    assert stem("bee") == stem("bees") == "bee"
    assert stem("string") == "string"  # "str" would leave no syllable
    assert stem("speed") == stem("speeding") == "speed"
    assert stem("Barking") == stem("bark")
    # Deliberately crude: irregular and derived forms stay apart.
    assert stem("speech") != stem("speak")
    assert stem("speaker") != stem("speak")


def test_sound_terms_drops_stop_words_short_words_and_punctuation():
    terms = sound_terms(["A dog barks in the background while someone's TV plays loudly.", "Dog, rain (2x)"])

    assert terms == frozenset({"dog", "bark", "rain"})
    assert all(word.isalpha() and word == word.lower() for word in STOP_WORDS)
    assert {"sound", "noise", "audio", "background", "someone", "absent"} <= STOP_WORDS


def test_sound_terms_of_nothing_is_empty():
    assert sound_terms([]) == frozenset()
    assert sound_terms(["", "the a of", "   "]) == frozenset()
    assert not names_present_sound("a dog barks", frozenset())


def test_empty_and_wordless_targets_never_leak():
    present = sound_terms(["An alarm beeps"])
    assert not names_present_sound("", present)
    assert not names_present_sound("   \n", present)
    assert not names_present_sound("1. 2. 3. ...", present)
    assert names_present_sound("alarm", present)


def test_pairs_leak_against_the_union_of_both_clips():
    metadata = pd.DataFrame(
        {
            "clip_id": ["a", "b", "c"],
            "seed_text": ["A dog barks", "Rain falls on a roof", "A cat meows"],
            "tags": [[], [], []],
        }
    )
    targets = pd.DataFrame(
        {
            "clip_ids": [["a", "b"], ["a", "b"], ["a", "b"], ["b", "c"]],
            "target": ["Neither clip has rain.", "No barking in either.", "Absent: sirens, a cat.", "Absent: a cat"],
        }
    )

    assert leak_flags(targets, metadata).tolist() == [True, True, False, True]


def test_all_seeds_and_tags_of_a_clip_count_and_missing_tags_are_tolerated():
    metadata = pd.DataFrame(
        {
            "clip_id": ["x", "x", "x", "y", "y"],
            "seed_text": ["A car passes", "Traffic on a street", "Vehicle, Engine", "A bell", "Wind"],
            "tags": [None, float("nan"), np.array(["Vehicle", "Engine"], dtype=object), [], None],
        }
    )
    targets = pd.DataFrame(
        {
            "clip_ids": [["x"], ["x"], ["x"], ["y"], ["y"], ["unknown"], np.array(["y"], dtype=object), "x"],
            "target": [
                "No engines.",
                "Absent: street traffic.",
                "Absent: birds.",
                "Absent: wind.",
                "Absent: cars.",
                "Absent: wind, cars, bells.",
                "Absent: bells.",
                "No car.",
            ],
        }
    )

    assert leak_flags(targets, metadata).tolist() == [True, True, False, True, False, False, True, True]


def test_tag_only_seeds_count_through_their_tags():
    metadata = pd.DataFrame({"clip_id": ["t"], "seed_text": ["Animal"], "tags": [["Dog", "Domestic animals, pets"]]})
    targets = pd.DataFrame({"clip_ids": [["t"]], "target": ["Absent sounds: a pet parrot, a cow."]})

    assert leak_flags(targets, metadata).tolist() == [True]


def test_empty_and_none_targets_are_not_leaks():
    metadata = pd.DataFrame({"clip_id": ["a"], "seed_text": ["A dog barks"], "tags": [["Dog"]]})
    targets = pd.DataFrame({"clip_ids": [["a"], ["a"], ["a"]], "target": ["", None, "dog"]})

    assert leak_flags(targets, metadata).tolist() == [False, False, True]


def test_empty_frames():
    metadata = pd.DataFrame({"clip_id": ["a"], "seed_text": ["A dog barks"], "tags": [[]]})
    no_targets = pd.DataFrame({"clip_ids": pd.Series([], dtype=object), "target": pd.Series([], dtype=object)})
    no_metadata = pd.DataFrame({"clip_id": [], "seed_text": [], "tags": []})

    assert leak_flags(no_targets, metadata).empty
    assert leak_flags(no_targets, metadata).dtype == bool
    one = pd.DataFrame({"clip_ids": [["a"]], "target": ["A dog barks"]})
    assert leak_flags(one, no_metadata).tolist() == [False]


def hand_frame() -> pd.DataFrame:
    # rows: 0 clean, 1 leak, 2 cut off, 3 cut off and leaking, 4 empty (finished), 5 empty (unfinished);
    # rows 0 and 3 mention their clip's sounds, and so does the empty row 4 (a stray flag).
    return pd.DataFrame(
        {
            "empty": [False, False, False, False, True, True],
            "finished": [True, True, False, False, True, False],
            "leak": [False, True, False, True, False, False],
            "mention": [True, False, False, True, True, False],
        }
    )


def test_quality_summary_counts_a_hand_computed_frame():
    summary = quality_summary(hand_frame(), leak_checked=True, mention_checked=True)

    # Both rates are over the 4 non-empty rows, not over all 6: 2 leaking, 2 mentioning.
    assert summary == {
        "targets": 6,
        "empty": 2,
        "cut_off": 2,
        "leak_checked": True,
        "leaking": 2,
        "leak_rate": 0.5,
        "mention_checked": True,
        "mentioning": 2,
        "mention_rate": 0.5,
    }
    assert json.loads(json.dumps(summary)) == summary
    assert all(type(summary[key]) is int for key in ("targets", "empty", "cut_off", "leaking", "mentioning"))
    assert type(summary["leak_rate"]) is float and type(summary["mention_rate"]) is float


def test_quality_summary_without_a_leak_check_reports_none():
    frame = hand_frame().drop(columns=["leak", "mention"])

    summary = quality_summary(frame, leak_checked=False)

    assert summary["leak_checked"] is False and summary["mention_checked"] is False
    assert summary["leaking"] is None and summary["leak_rate"] is None
    assert summary["mentioning"] is None and summary["mention_rate"] is None
    assert (summary["targets"], summary["empty"], summary["cut_off"]) == (6, 2, 2)


def test_quality_summary_ignores_a_stray_leak_flag_on_an_empty_row():
    frame = hand_frame()
    frame.loc[4, "leak"] = True

    summary = quality_summary(frame, leak_checked=True)

    assert summary["leaking"] == 2 and summary["leak_rate"] == 0.5


def test_quality_summary_rate_is_none_without_answers():
    all_empty = pd.DataFrame(
        {"empty": [True, True], "finished": [False, True], "leak": [False, False], "mention": [False, True]}
    )
    nothing = pd.DataFrame({"empty": [], "finished": [], "leak": []})

    assert quality_summary(all_empty, leak_checked=True, mention_checked=True) == {
        "targets": 2,
        "empty": 2,
        "cut_off": 0,
        "leak_checked": True,
        "leaking": 0,
        "leak_rate": None,
        "mention_checked": True,
        "mentioning": 0,
        "mention_rate": None,
    }
    assert quality_summary(nothing, leak_checked=True)["leak_rate"] is None
    assert quality_summary(nothing, leak_checked=True)["targets"] == 0


SOUND_TEXT = (
    "dog bark cat meow bird chirp siren wail engine hum car horn rain thunder wind bell church clock tick alarm "
    "beep door knock footsteps water drip baby cry man woman speak laugh music piano guitar drum train plane "
    "helicopter crowd cheer applause phone ring typing keyboard glass shatter insect buzz frog croak cow moo"
)
SOUNDS = SOUND_TEXT.split()


def test_leak_flags_is_linear_on_a_large_run():
    rng = random.Random(0)
    clips = [f"corpus/{number:05d}" for number in range(20_000)]
    metadata = pd.DataFrame(
        {
            "clip_id": [clip for clip in clips for _ in range(2)],
            "seed_text": [f"A {' and a '.join(rng.sample(SOUNDS, 3))} in the background" for _ in range(40_000)],
            "tags": [rng.sample(SOUNDS, 2) if number % 2 else None for number in range(40_000)],
        }
    )
    targets = pd.DataFrame(
        {
            "clip_ids": [rng.sample(clips, 1 + number % 2) for number in range(100_000)],
            "target": [f"Absent sounds: {', '.join(rng.sample(SOUNDS, 6))}." for _ in range(100_000)],
        }
    )

    started = time.perf_counter()
    flags = leak_flags(targets, metadata)
    elapsed = time.perf_counter() - started

    assert len(flags) == 100_000
    assert 0 < flags.mean() < 1
    assert elapsed < 10, f"leak_flags took {elapsed:.1f} s on 100k targets"
