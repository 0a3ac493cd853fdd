"""Lexical quality checks on generated targets: empty, cut-off, and negative targets that leak present sounds.

A *negative* target answers "Identify sounds that are absent as contrasting examples." and should list sounds the
clip does not contain. When it names a sound the clip does contain (a *leak*), training on it teaches the model to
deny what it hears, so the leak rate is measured and leaking rows may be dropped.

The check is lexical. A clip's present sounds are the content words of all its seeds (captions and tag lists):
lower-cased letter runs, minus ``STOP_WORDS`` and words under three letters, reduced by a deliberately crude
stemmer. A target leaks when any of its own content words, reduced the same way, is among them. Known limits:

* negation and context are invisible: "there are no sirens" leaks when a siren is present (rightly: it denies a
  present sound), and so does "besides the siren, there is no music" (wrongly: it only mentions it);
* no synonyms or hypernyms: "speech" does not match "talking", nor "canine" match "dog";
* a shared word is enough: "car horn" leaks against "a car passes" although the horn itself is absent;
* the stemmer conflates few forms and can, rarely, join unrelated words (it is a normaliser, not a lemmatiser).

So the rate is a screen, not a verdict: it overcounts passing mentions and misses paraphrases.

The same terms measure the opposite for sets whose targets should describe the clip (every set but the absent-sound
ones): the *mention rate*, the share of targets that name a sound the clip has. The papers' method rests on the
backbone's targets carrying what the clip holds; a target that names none of it teaches the adapter to answer
without listening (a small backbone asked "Replay the audio." about a clip's tags often writes about something
else). Below ``LOW_MENTION_RATE`` a set is reported as unlikely to teach grounding. The same limits apply, the other
way round: a mention is counted even when negated, and a paraphrase is missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

# Words that appear in captions, tags or the LLM's answers without naming a sound. Two kinds: English function
# words (including the stubs that splitting on apostrophes leaves, "doesn't" -> "doesn"), and vocabulary that
# describes *how* or *where* something sounds, or echoes the prompt. Any of them shared by a caption and a target
# would flag a leak that says nothing about sounds ("background noise" vs "no background music"). Generic verbs of
# occurrence (play, run, pass, make, start...) go too: in "music plays" and "children playing" the sound is named by
# the noun. Sound sources that narrow a voice down (man, woman, child, baby, crowd) stay content words; "people",
# "person" and "someone" are dropped as too generic to contradict anything. Matched on the word as written, before
# stemming, so that a stop word's stem cannot swallow a sound word ("not" vs "notes").
_STOP_WORD_TEXT = """
    a an the and or but nor so yet if than then that this these those there here where when while whilst which who
    whom whose what how why because since until unless though although whether
    of in on at to from with without by for as into onto over under above below between through throughout during
    before after about against along across around behind beyond near toward towards upon within off out up down
    away back forth via per
    is are was were be been being am has have had having do does did doing done will would shall should can could
    may might must ought
    it its itself he she they them their theirs his her hers him we us our ours you your yours me my mine
    one ones two three four five six seven eight nine ten first second third last next once twice
    no not none any all some such only also very just too more most less least much many few several multiple
    various numerous other others another same different each every both either neither own lot lots couple
    don doesn didn isn aren wasn weren won wouldn couldn shouldn hasn haven hadn cannot let
    still even ever never always often sometimes occasionally usually already almost again later finally
    eventually suddenly briefly meanwhile afterwards together quite really rather slightly somewhat well
    sound sounds sounding sounded noise noises noisy audio audible recording recordings recorded clip clips track
    background foreground ambient ambience environment environmental atmosphere surroundings area place setting
    scene room inside outside indoors outdoors indoor outdoor urban rural manmade natural generic effect effects
    someone somebody something anyone anybody anything everyone everybody everything nothing nobody thing things
    stuff person persons people object objects item items surface
    loud louder loudest loudly quiet quieter quietly soft softer softly faint fainter faintly gentle gently light
    lightly heavy heavily hard strong strongly weak low lower high higher pitched pitch volume level intense
    muffled clear clearly distinct distinctly
    distance distant far farther nearby close closer closeby
    repeatedly repeated repeating repeat repeats continuously continuous continue continues continued continuing
    constant constantly steady steadily intermittent intermittently periodic periodically rhythmic rhythmically
    rapid rapidly quick quickly slow slowly fast random randomly short long brief small large big huge tiny little
    full whole entire
    followed follows follow following begins began begin beginning starts started start starting stops stopped
    stop stopping ends ended end ending
    make makes making made produce produces producing produced create creates creating emit emits emitting
    play plays playing played run runs running ran move moves moving moved pass passes passing passed go goes
    going went gone come comes coming came get gets getting got take takes taking took use uses using used
    occur occurs occurring happen happens happening seem seems appear appears
    hear hears heard hearing listen listening listener
    present presence absent absence contain contains containing contained include includes including included
    example examples contrast contrasting contrasts identify identified identifying given type types kind kinds
    like sort mix mixed mixture combination series sequence pattern
    time times moment moments second seconds minute minutes
    yes okay sure certainly here list note answer
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORD_TEXT.split())

# Under half of a set's targets naming the clip's sounds: most of what an adapter trained on it learns to say could be
# said without hearing the clip. A screen for the generation-quality report, not a cut-off applied to the data.
LOW_MENTION_RATE = 0.5

_WORD = re.compile(r"[^\W\d_]+")  # runs of letters: digits, underscores, apostrophes and punctuation split
_VOWELS = frozenset("aeiouy")
_KEEP_DOUBLE = frozenset("lszfr")  # "buzzing" -> "buzz", "purring" -> "purr", but "humming" -> "hum"
_MIN_LETTERS = 3


def _is_stem(candidate: str) -> bool:
    # Refuses strips that leave no syllable: "ring" -> "r", "string" -> "str".
    return len(candidate) >= _MIN_LETTERS and any(letter in _VOWELS for letter in candidate)


def _undouble(root: str) -> str:
    if len(root) > _MIN_LETTERS and root[-1] == root[-2] and root[-1] not in _KEEP_DOUBLE | _VOWELS:
        return root[:-1]
    return root


def stem(word: str) -> str:
    """A deliberately crude stemmer: enough to make a caption's and an answer's inflections meet, nothing more.

    Strips one inflection (plural or third-person "-s"/"-es"/"-ies", "-ing", "-ed"), undoubles a consonant the
    inflection doubled, then drops a final silent "e", so "bark"/"barks"/"barking"/"barked", "whistle"/"whistling"
    and "glass"/"glasses" meet. It knows no irregular forms ("speech" stays apart from "speak") and no derivations
    ("speaker" stays apart from "speak"). Both sides of a comparison go through it, so only consistency matters.
    """
    word = word.lower()
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ies") and _is_stem(word[:-3] + "y"):
        word = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > _MIN_LETTERS:
        word = word[:-1]
    elif word.endswith("ied") and _is_stem(word[:-3] + "y"):
        word = word[:-3] + "y"
    elif word.endswith("ing") and _is_stem(word[:-3]):
        word = _undouble(word[:-3])
    elif word.endswith("ed") and not word.endswith("eed") and _is_stem(word[:-2]):
        word = _undouble(word[:-2])
    # "horse"/"horses" -> "hors" and "chime"/"chiming" -> "chim" meet; "bee" and "tree" keep theirs.
    if len(word) > _MIN_LETTERS and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


class _StemCache(dict[str, str]):
    # Captions and answers repeat a vocabulary of some 10^4 words; looking them up beats re-stemming 10^6 times.
    # "" marks a word that names no sound, so that the hot path stays one C-level dict lookup per word.
    def __missing__(self, word: str) -> str:
        term = "" if len(word) < _MIN_LETTERS or word in STOP_WORDS else stem(word)
        self[word] = term
        return term


_STEMS = _StemCache()


def content_stems(text: str | None) -> set[str]:
    """The stemmed content words of ``text``: what it could name as a sound."""
    if not isinstance(text, str) or not text:
        return set()
    terms = set(map(_STEMS.__getitem__, set(_WORD.findall(text.lower()))))
    terms.discard("")
    return terms


def sound_terms(texts: Iterable[str]) -> frozenset[str]:
    """The terms naming a clip's present sounds, from all its seed texts and tags."""
    terms: set[str] = set()
    for text in texts:
        terms |= content_stems(text)
    return frozenset(terms)


def names_present_sound(target: str, present_terms: frozenset[str]) -> bool:
    """Whether ``target`` names, lexically, any of the clip's present sounds."""
    return not present_terms.isdisjoint(content_stems(target))


def _as_list(value: Any) -> list[str]:
    # Parquet hands list columns back as numpy arrays; a missing list is None, NaN or pd.NA; a lone id is a str.
    if isinstance(value, str):
        return [value]
    if value is None or pd.api.types.is_scalar(value):
        return []
    return [item for item in value if isinstance(item, str)]


def clip_terms(metadata: pd.DataFrame) -> dict[str, set[str]]:
    """Present-sound terms per clip, over all of the clip's seeds (texts and tags), in one pass."""
    terms: dict[str, set[str]] = {}
    if metadata.empty:
        return terms
    tags = metadata["tags"] if "tags" in metadata.columns else [None] * len(metadata)
    for clip_id, seed_text, seed_tags in zip(metadata["clip_id"].tolist(), metadata["seed_text"].tolist(), tags):
        clip = terms.setdefault(clip_id, set())
        clip |= content_stems(seed_text)
        clip |= content_stems(" ".join(_as_list(seed_tags)))
    return terms


def _named_per_clip(targets: pd.DataFrame, metadata: pd.DataFrame) -> list[list[bool]]:
    """Per target row, per clip of its ``clip_ids``: whether the target names one of that clip's sounds.

    A clip missing from ``metadata`` contributes no terms, so it is never named.
    """
    terms = clip_terms(metadata)
    no_terms: set[str] = set()
    named = []
    for clip_ids, target in zip(targets["clip_ids"].tolist(), targets["target"].tolist()):
        words = content_stems(target)
        named.append(
            [bool(words) and not terms.get(clip_id, no_terms).isdisjoint(words) for clip_id in _as_list(clip_ids)]
        )
    return named


def leak_flags(targets: pd.DataFrame, metadata: pd.DataFrame) -> pd.Series[bool]:
    """Per target row, whether it names a sound present in any of its clips (``clip_ids``).

    A clip missing from ``metadata`` contributes no terms, so it cannot make a row leak.
    """
    flags = [any(clips) for clips in _named_per_clip(targets, metadata)]
    return pd.Series(flags, index=targets.index, dtype=bool, name="leak")


def mention_flags(targets: pd.DataFrame, metadata: pd.DataFrame) -> pd.Series[bool]:
    """Per target row, whether it names a sound of each of its clips (``clip_ids``), with the leak check's terms.

    A two-audio target must name something of both clips: one that describes only the first teaches nothing about
    hearing the second. A clip missing from ``metadata`` has no terms, so a row about it mentions nothing.
    """
    flags = [bool(clips) and all(clips) for clips in _named_per_clip(targets, metadata)]
    return pd.Series(flags, index=targets.index, dtype=bool, name="mention")


def quality_summary(
    targets: pd.DataFrame, leak_checked: bool, mention_checked: bool = False
) -> dict[str, int | float | bool | None]:
    """Counts for a report: rows, empty, cut off (unfinished, not empty), the leak count and rate if checked, and the
    count and rate of targets naming their clips' sounds (``mention`` column) if checked.

    Both rates' denominator is the non-empty rows, since an empty answer can neither leak nor mention anything.
    """
    empty = targets["empty"].astype(bool) if len(targets) else pd.Series(dtype=bool)
    finished = targets["finished"].astype(bool) if len(targets) else pd.Series(dtype=bool)
    answered = int((~empty).sum())
    leaking, leak_rate = _flagged(targets, "leak", empty, answered) if leak_checked else (None, None)
    mentioning, mention_rate = _flagged(targets, "mention", empty, answered) if mention_checked else (None, None)
    return {
        "targets": len(targets),
        "empty": int(empty.sum()),
        "cut_off": int((~finished & ~empty).sum()),
        "leak_checked": bool(leak_checked),
        "leaking": leaking,
        "leak_rate": leak_rate,
        "mention_checked": bool(mention_checked),
        "mentioning": mentioning,
        "mention_rate": mention_rate,
    }


def _flagged(targets: pd.DataFrame, column: str, empty: pd.Series, answered: int) -> tuple[int, float | None]:
    """How many non-empty rows have ``column`` set, and their share of the non-empty rows (None without any)."""
    flags = targets[column].astype(bool) if len(targets) else pd.Series(dtype=bool)
    count = int((flags & ~empty).sum())
    return count, count / answered if answered else None
