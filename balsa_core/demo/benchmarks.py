"""Demo evaluation benchmarks, in the released file formats, built from the demo corpus's held-out clips.

The demo run has none of the real benchmarks (Clotho-AQA, MMAU, SAKURA, audio entailment,
the AudioSet-based Synonym-Hypernym test), so this module writes small stand-ins for them
from the test split of the demo corpus (``balsa_core.demo.corpus``): each file has the real
release's layout, so the project's own loaders read it unchanged. They are a plumbing check
of the evaluation stage, not the real benchmarks: the questions are templated from the
demo's 15 synthetic event classes.

Files under ``out_dir`` (benchmark name -> what the loader needs):

* ``clotho_aqa``: ``clotho_aqa/clotho_aqa_test.csv``; audio_dir ``<demo_dir>/esc50/audio``.
  Two yes/no questions per single-event clip (its sound: "yes"; an absent one: "no"), three
  annotator rows each; every ``DISSENT_EVERY``-th question has one dissenting annotator, so the
  loader's unanimity filter drops it.
* ``mmau``: ``mmau/mmau-test-mini.json``; audio_dir ``<demo_dir>`` (``audio_id`` is
  ``./esc50/audio/<file>``). One four-way "source of the sound" question per single-event clip.
* ``sakura``: ``sakura/<SAKURA_TRACK>_metadata.csv``; audio_dir ``<demo_dir>/esc50/audio``. Per
  single-event clip whose class has an unambiguous kind (``ClassFacts.kind``): a single-hop
  "source of the sound" question and a multi-hop "what kind of thing makes it" question.
* ``audio_entailment``: ``audio_entailment/clotho_entailment_test.csv`` (single-event clips,
  audio_dir ``<demo_dir>/esc50/audio``) and ``audio_entailment/audiocaps_entailment_test.csv``
  (multi-event clips, audio_dir ``<demo_dir>/audiocaps/audio``): one row per clip.
* ``synonym_hypernym``: ``audioset/ontology.json`` (the demo classes, named exactly as the demo
  tags, under a small hand-written hypernym tree), ``audioset/eval_segments.csv`` (the
  multi-event clips in AudioSet's segments format, labelled with the demo mids) and
  ``audioset/synonyms.json`` (class name -> everyday synonyms).

Every random choice (absent classes, option order, dissenting annotators, hypothesis
templates) comes from a generator seeded with (seed, benchmark name), so one benchmark's
draws never depend on another's and the same inputs give byte-identical files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from balsa_core.demo.corpus import EVENT_CLASSES, write_csv
from balsa_core.evaluation.loaders.common import stable_int

ANIMAL, PERSON, MACHINE, WEATHER = "an animal", "a person", "a machine", "the weather"
KINDS = (ANIMAL, PERSON, MACHINE, WEATHER)
SOUNDS_OF_THINGS = "Sounds of things"


@dataclass(frozen=True)
class ClassFacts:
    # A noun phrase for the sound, usable after "Can you hear" and "The audio features".
    sound: str
    # What makes the sound; None when a listener could not tell for sure (SAKURA skips those).
    kind: str | None
    # The class's parent in the demo ontology (a key of HYPERNYM_GROUPS).
    parent: str
    synonyms: tuple[str, ...]


# Keyed by the demo tags (EventClass.tag).
CLASS_FACTS: dict[str, ClassFacts] = {
    "siren": ClassFacts("a siren wailing", MACHINE, "Alarm", ("emergency siren", "wailing siren")),
    "alarm beeps": ClassFacts("an alarm beeping", MACHINE, "Alarm", ("beeping alarm", "buzzer", "beeper")),
    "clock tick": ClassFacts("a clock ticking", MACHINE, "Clock", ("ticking clock", "tick-tock")),
    "engine": ClassFacts("an engine humming", MACHINE, "Mechanisms", ("motor", "running engine")),
    "rain": ClassFacts("rain falling", WEATHER, "Weather", ("rainfall", "shower of rain")),
    "chirping birds": ClassFacts("birds chirping", ANIMAL, "Bird", ("birdsong", "tweeting birds", "twittering")),
    "door wood knock": ClassFacts(
        "someone knocking on a door", PERSON, "Door", ("knocking", "rapping on a door", "knock at the door")
    ),
    "phone ring": ClassFacts("a phone ringing", MACHINE, "Telephone", ("ringing telephone", "ringtone")),
    # Bells are rung by hand or by a mechanism.
    "church bells": ClassFacts("church bells ringing", None, "Bell", ("church chimes", "pealing bells")),
    # A person whistling or a whistle blown: the tag does not say which.
    "whistle": ClassFacts("someone whistling", None, "Human sounds", ("whistling", "whistled tune")),
    "dog": ClassFacts("a dog barking", ANIMAL, "Domestic animals, pets", ("doggy", "canine", "puppy")),
    # Drips may come from rain or from a tap.
    "water drops": ClassFacts("water dripping", None, "Water", ("dripping water", "drips", "droplets")),
    "footsteps": ClassFacts("footsteps clacking", PERSON, "Human locomotion", ("footfalls", "walking")),
    "crickets": ClassFacts("crickets chirping", ANIMAL, "Insect", ("cricket chirps", "chirring crickets")),
    "car horn": ClassFacts("a car horn honking", MACHINE, "Vehicle", ("honk", "hooter", "honking horn")),
}

# Group -> its parent group (None: top level), parents listed before their children.
# Names follow AudioSet's where it has the group, so "Sounds of things" stays a generic root.
HYPERNYM_GROUPS: dict[str, str | None] = {
    "Animal": None,
    "Domestic animals, pets": "Animal",
    "Wild animals": "Animal",
    "Bird": "Wild animals",
    "Insect": "Wild animals",
    "Human sounds": None,
    "Human locomotion": "Human sounds",
    "Natural sounds": None,
    "Weather": "Natural sounds",
    "Water": "Natural sounds",
    SOUNDS_OF_THINGS: None,
    "Vehicle": SOUNDS_OF_THINGS,
    "Alarm": SOUNDS_OF_THINGS,
    "Telephone": "Alarm",
    "Bell": SOUNDS_OF_THINGS,
    "Domestic sounds, home sounds": SOUNDS_OF_THINGS,
    "Door": "Domestic sounds, home sounds",
    "Mechanisms": SOUNDS_OF_THINGS,
    "Clock": "Mechanisms",
}

SAKURA_TRACK = "Source"
ANNOTATORS = 3
DISSENT_EVERY = 5
N_OPTIONS = 4
SEGMENT_SECONDS = 10

CLOTHO_AQA_HEADER = ("file_name", "QuestionText", "answer", "confidence")
SAKURA_HEADER = ("file", "attribute_label", "single_instruction", "single_answer", "multi_instruction", "multi_answer")
ENTAILMENT_HEADER = ("Dataset", "Audio file", "Caption", "Entailment", "Neutral", "Contradiction")
SEGMENTS_COLUMNS = "# YTID, start_seconds, end_seconds, positive_labels"

# The files write_demo_benchmarks writes, relative to its out_dir: the demo_benchmarks rule's
# outputs, and where config.yaml's demo benchmark entries may point.
CLOTHO_AQA_FILE = "clotho_aqa/clotho_aqa_test.csv"
MMAU_FILE = "mmau/mmau-test-mini.json"
SAKURA_FILE = f"sakura/{SAKURA_TRACK}_metadata.csv"
CLOTHO_ENTAILMENT_FILE = "audio_entailment/clotho_entailment_test.csv"
AUDIOCAPS_ENTAILMENT_FILE = "audio_entailment/audiocaps_entailment_test.csv"
ONTOLOGY_FILE = "audioset/ontology.json"
SEGMENTS_FILE = "audioset/eval_segments.csv"
SYNONYMS_FILE = "audioset/synonyms.json"
DEMO_BENCHMARK_FILES = (
    CLOTHO_AQA_FILE,
    MMAU_FILE,
    SAKURA_FILE,
    CLOTHO_ENTAILMENT_FILE,
    AUDIOCAPS_ENTAILMENT_FILE,
    ONTOLOGY_FILE,
    SEGMENTS_FILE,
    SYNONYMS_FILE,
)

YES_NO_QUESTION = "Can you hear {sound}?"
MMAU_QUESTION = "Based on the given audio, identify the source of the sound."
SAKURA_SINGLE = "What is the source of the sound?"
SAKURA_MULTI = "What kind of thing makes this sound?"
CLOTHO_CAPTIONS = (
    "{Phrase}.",
    "In this recording, {phrase}.",
    "It sounds as if {phrase}.",
    "Somewhere nearby, {phrase}.",
    "{Phrase} for a while.",
)
ENTAILMENT = "The audio features {sound}."
NEUTRALS = (
    "The audio features {sound} in a small town.",
    "The audio features {sound}, recorded late at night.",
    "The audio features {sound}, recorded by a tourist on holiday.",
)
CONTRADICTIONS = ("Only the sound of {sound} can be heard.", "The recording is completely silent.")


@dataclass(frozen=True)
class HeldOutClip:
    audio_path: str  # relative to demo_dir
    layout: str
    tags: tuple[str, ...]  # in onset order

    @property
    def file_name(self) -> str:
        return Path(self.audio_path).name


def read_test_clips(demo_dir: Path) -> list[HeldOutClip]:
    """The test-split clips of ``<demo_dir>/events.csv``, in its order."""
    with (demo_dir / "events.csv").open(newline="", encoding="utf-8") as handle:
        return [
            HeldOutClip(row["audio_path"], row["layout"], tuple(row["tags"].split(";")))
            for row in csv.DictReader(handle)
            if row["split"] == "test"
        ]


def _rng(seed: int, benchmark: str) -> np.random.Generator:
    return np.random.default_rng([seed, stable_int(benchmark)])


def _absent_tags(rng: np.random.Generator, present: Sequence[str], count: int) -> list[str]:
    candidates = [tag for tag in CLASS_FACTS if tag not in present]
    return [candidates[i] for i in rng.choice(len(candidates), size=count, replace=False)]


def _shuffled(rng: np.random.Generator, options: Sequence[str]) -> list[str]:
    return [options[i] for i in rng.permutation(len(options))]


def _source_options(rng: np.random.Generator, clip: HeldOutClip) -> list[str]:
    """The clip's tag and N_OPTIONS - 1 absent tags, in random order."""
    return _shuffled(rng, [clip.tags[0], *_absent_tags(rng, clip.tags, N_OPTIONS - 1)])


def _write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _write_json(path: Path, value: object) -> Path:
    return _write_lines(path, [json.dumps(value, indent=2, ensure_ascii=False)])


# --- Clotho-AQA --------------------------------------------------------------------------


def clotho_aqa_rows(clips: Sequence[HeldOutClip], rng: np.random.Generator) -> list[tuple[str, str, str, str]]:
    questions = []
    for clip in clips:
        (absent,) = _absent_tags(rng, clip.tags, 1)
        asked = [(clip.tags[0], "yes"), (absent, "no")]
        # Sorted by question text per clip, as the release is, so "yes" is not always first.
        questions += sorted(
            (clip.file_name, YES_NO_QUESTION.format(sound=CLASS_FACTS[tag].sound), answer) for tag, answer in asked
        )
    rows = []
    for position, (file_name, question, answer) in enumerate(questions):
        dissenter = int(rng.integers(ANNOTATORS)) if position % DISSENT_EVERY == DISSENT_EVERY - 1 else None
        for annotator in range(ANNOTATORS):
            if annotator == dissenter:
                rows.append((file_name, question, "no" if answer == "yes" else "yes", "maybe"))
            else:
                rows.append((file_name, question, answer, "yes"))
    return rows


# --- MMAU --------------------------------------------------------------------------------


def mmau_entries(clips: Sequence[HeldOutClip], rng: np.random.Generator) -> list[dict[str, str | list[str]]]:
    return [
        {
            "id": f"demo-{Path(clip.file_name).stem}",
            "audio_id": f"./{clip.audio_path}",
            "question": MMAU_QUESTION,
            "choices": _source_options(rng, clip),
            "answer": clip.tags[0],
            "dataset": "balsa-demo",
            "task": "sound",
            "split": "test-mini",
            "category": "Information Extraction",
            "sub-category": "Sound-Based Event Recognition",
            "difficulty": "easy",
        }
        for clip in clips
    ]


# --- SAKURA ------------------------------------------------------------------------------


def _lettered(stem: str, options: Sequence[str], answer: str) -> tuple[str, str]:
    """The instruction with its options appended, and the answer, as ``(b) option``."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    listed = " ".join(f"({letter}) {option}" for letter, option in zip(letters, options))
    return f"{stem} {listed}", f"({letters[options.index(answer)]}) {answer}"


def sakura_rows(clips: Sequence[HeldOutClip], rng: np.random.Generator) -> list[tuple[str, ...]]:
    rows = []
    for clip in clips:
        tag = clip.tags[0]
        kind = CLASS_FACTS[tag].kind
        if kind is None:
            continue
        single = _lettered(SAKURA_SINGLE, _source_options(rng, clip), tag)
        multi = _lettered(SAKURA_MULTI, _shuffled(rng, KINDS), kind)
        rows.append((clip.file_name, tag, *single, *multi))
    return rows


# --- audio entailment --------------------------------------------------------------------


def _hypotheses(rng: np.random.Generator, tags: Sequence[str]) -> tuple[str, str, str]:
    """(entailment, neutral, contradiction) about a clip with these tags."""
    sound = CLASS_FACTS[tags[int(rng.integers(len(tags)))]].sound
    neutral = NEUTRALS[int(rng.integers(len(NEUTRALS)))]
    contradiction = CONTRADICTIONS[int(rng.integers(len(CONTRADICTIONS)))]
    (absent,) = _absent_tags(rng, tags, 1)
    return (
        ENTAILMENT.format(sound=sound),
        neutral.format(sound=sound),
        contradiction.format(sound=CLASS_FACTS[absent].sound),
    )


def _clotho_captions(tag: str) -> list[str]:
    phrase = next(event_class.phrase for event_class in EVENT_CLASSES if event_class.tag == tag)
    capitalised = phrase[0].upper() + phrase[1:]
    return [template.format(phrase=phrase, Phrase=capitalised) for template in CLOTHO_CAPTIONS]


def clotho_entailment_rows(clips: Sequence[HeldOutClip], rng: np.random.Generator) -> list[tuple[str, ...]]:
    # The release stores Clotho's five captions as a Python list's repr.
    return [
        ("ClothoV2", clip.file_name, repr(_clotho_captions(clip.tags[0])), *_hypotheses(rng, clip.tags))
        for clip in clips
    ]


def audiocaps_entailment_rows(
    clips: Sequence[HeldOutClip], captions: dict[str, str], rng: np.random.Generator
) -> list[tuple[str, ...]]:
    # "Audio file" is the bare file stem, "Y" + YouTube id, as in the release.
    return [
        ("Audiocaps", Path(clip.file_name).stem, captions[_youtube_id(clip)], *_hypotheses(rng, clip.tags))
        for clip in clips
    ]


def _youtube_id(clip: HeldOutClip) -> str:
    return Path(clip.file_name).stem.removeprefix("Y")


def read_audiocaps_test(demo_dir: Path) -> dict[str, dict[str, str]]:
    """YouTube id -> the row of ``<demo_dir>/audiocaps/test.csv``."""
    with (demo_dir / "audiocaps" / "test.csv").open(newline="", encoding="utf-8") as handle:
        return {row["youtube_id"]: row for row in csv.DictReader(handle)}


# --- AudioSet-style files for the Synonym-Hypernym test ------------------------------------


def demo_mid(name: str) -> str:
    slug = "".join(char if char.isalnum() else "_" for char in name.lower())
    return "/demo/" + "_".join(part for part in slug.split("_") if part)


def ontology_entries() -> list[dict[str, object]]:
    """Groups (parents first), then the demo classes, in AudioSet's ontology.json layout."""
    parents = {**HYPERNYM_GROUPS, **{tag: facts.parent for tag, facts in CLASS_FACTS.items()}}
    descriptions = {event_class.tag: f"Demo class: {event_class.phrase}." for event_class in EVENT_CLASSES}
    return [
        {
            "id": demo_mid(name),
            "name": name,
            "description": descriptions.get(name, f"Demo hypernym group: {name}."),
            "citation_uri": "",
            "positive_examples": [],
            "child_ids": [demo_mid(child) for child, parent in parents.items() if parent == name],
            # AudioSet marks grouping classes that are never used as labels "abstract".
            "restrictions": [] if name in CLASS_FACTS else ["abstract"],
        }
        for name in parents
    ]


def segments_lines(clips: Sequence[HeldOutClip], audiocaps: dict[str, dict[str, str]]) -> list[str]:
    """AudioSet segments-file lines: three '#' lines, then ``YTID, start, end, "mid,mid"``."""
    labels = {tag for clip in clips for tag in clip.tags}
    lines = [
        "# Segments csv created by balsa_core.demo.benchmarks from the demo's held-out multi-event clips",
        f"# num_ytids={len(clips)}, num_segs={len(clips)}, num_unique_labels={len(labels)}, "
        f"num_positive_labels={sum(len(clip.tags) for clip in clips)}",
        SEGMENTS_COLUMNS,
    ]
    for clip in clips:
        start = int(audiocaps[_youtube_id(clip)]["start_time"])
        mids = ",".join(demo_mid(tag) for tag in clip.tags)
        lines.append(f'{_youtube_id(clip)}, {start:.3f}, {start + SEGMENT_SECONDS:.3f}, "{mids}"')
    return lines


# --- all of them ---------------------------------------------------------------------------


def write_demo_benchmarks(demo_dir: Path, out_dir: Path, seed: int = 0) -> dict[str, list[Path]]:
    """Write every demo benchmark under out_dir (see the module docstring); benchmark name -> files."""
    demo_dir, out_dir = Path(demo_dir), Path(out_dir)
    clips = read_test_clips(demo_dir)
    single = [clip for clip in clips if clip.layout == "esc50"]
    multi = [clip for clip in clips if clip.layout == "audiocaps"]
    audiocaps = read_audiocaps_test(demo_dir)
    captions = {youtube_id: row["caption"] for youtube_id, row in audiocaps.items()}

    entailment_rng = _rng(seed, "audio_entailment")
    return {
        "clotho_aqa": [
            write_csv(out_dir / CLOTHO_AQA_FILE, CLOTHO_AQA_HEADER, clotho_aqa_rows(single, _rng(seed, "clotho_aqa")))
        ],
        "mmau": [_write_json(out_dir / MMAU_FILE, mmau_entries(single, _rng(seed, "mmau")))],
        "sakura": [write_csv(out_dir / SAKURA_FILE, SAKURA_HEADER, sakura_rows(single, _rng(seed, "sakura")))],
        "audio_entailment": [
            write_csv(
                out_dir / CLOTHO_ENTAILMENT_FILE, ENTAILMENT_HEADER, clotho_entailment_rows(single, entailment_rng)
            ),
            write_csv(
                out_dir / AUDIOCAPS_ENTAILMENT_FILE,
                ENTAILMENT_HEADER,
                audiocaps_entailment_rows(multi, captions, entailment_rng),
            ),
        ],
        "synonym_hypernym": [
            _write_json(out_dir / ONTOLOGY_FILE, ontology_entries()),
            _write_lines(out_dir / SEGMENTS_FILE, segments_lines(multi, audiocaps)),
            _write_json(out_dir / SYNONYMS_FILE, {tag: list(facts.synonyms) for tag, facts in CLASS_FACTS.items()}),
        ],
    }
