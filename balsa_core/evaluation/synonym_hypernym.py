"""Yes/no items for the Synonym-Hypernym Test, built from AudioSet-labelled clips (such as AudioCaps).

The BALSa paper (after its ref. [48]) asks whether a model links a clip's sound to words that mean
the same (synonyms) or name a broader category (hypernyms), and reports weighted precision, recall
and F1 over the yes/no answers. Items are rebuilt here from each clip's AudioSet class names:

* ``hypernym`` positives: every ancestor of each tag in the ontology DAG (``Ontology.ancestors_of``:
  never the tag itself), except the ``GENERIC_HYPERNYMS``: top-level classes that name no sound
  source ("Sounds of things", ...). Dog gives "Domestic animals, pets", "Canidae, dogs, wolves",
  "Animal" and so on.
* ``synonym`` positives: the tag's entries in the caller's ``synonyms`` mapping (class name -> words);
  with ``synonyms=None``, ``DEFAULT_SYNONYMS``, a small hand-written table (not from the paper).
* negatives (answer "no"), ``negatives_per_clip`` per clip, drawn uniformly without replacement, as
  in POPE's random sampling, from the pool of all hypernym objects (names of ontology classes with
  children, minus ``GENERIC_HYPERNYMS``) and all synonyms of the table. An object is never a negative
  when it names, or is a synonym of, a class related to any clip tag: the tag, one of its ancestors,
  or one of its descendants (a "Dog" clip may well bark). The generator is seeded from
  (seed, clip_id) only and the pool from the ontology and table only, so one clip's draw never
  depends on the other clips.

Every object is asked once per clip (the first relation wins: hypernym before synonym), with the
phrasing the hallucination benchmark uses: ``QUESTION`` = "Is there a sound of {object} in the
audio?" (the paper's example, "Is the sound from an object that is a type of chordate?", is not
released as a template). Per clip: hypernym positives, synonym positives, then negatives in pool order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources

import pandas as pd

from balsa_core.evaluation.loaders.common import finish_items, seeded_sample
from balsa_core.ontology import Ontology

BENCHMARK = "synonym_hypernym"
QUESTION = "Is there a sound of {object} in the audio?"
CLIP_COLUMNS = ("clip_id", "audio_path", "tags")
EXTRA_COLUMNS = ("clip_id", "object", "tag")
SUBSETS = ("hypernym", "synonym")

# AudioSet top-level classes too generic to ask about: they group sounds by no nameable source.
GENERIC_HYPERNYMS: frozenset[str] = frozenset(
    {"Sounds of things", "Source-ambiguous sounds", "Channel, environment and background"}
)


def _default_synonyms() -> dict[str, tuple[str, ...]]:
    """Hand-written everyday synonyms of common AudioSet class names (keys are exact class names),
    kept in the format of the file that ``evaluation.benchmarks.<name>.synonyms`` names."""
    text = resources.files("balsa_core.evaluation").joinpath("default_synonyms.json").read_text(encoding="utf-8")
    return {name: tuple(words) for name, words in json.loads(text).items()}


DEFAULT_SYNONYMS: Mapping[str, tuple[str, ...]] = _default_synonyms()


def build_synonym_hypernym_items(
    clips: pd.DataFrame,
    ontology: Ontology,
    synonyms: Mapping[str, Sequence[str]] | None,
    negatives_per_clip: int,
    seed: int,
) -> pd.DataFrame:
    """Item-schema rows (plus ``clip_id``, ``object``, ``tag``) for each clip; see the module docstring.

    ``clips`` has ``clip_id`` (unique), ``audio_path`` and ``tags`` (a list of AudioSet class names,
    or one name; mids are accepted too). ``tag`` is the clip tag a positive came
    from, '' for negatives. ``item_id`` is ``synonym_hypernym/{clip_id}/{object}``.
    """
    missing = [column for column in CLIP_COLUMNS if column not in clips.columns]
    if missing:
        raise ValueError(f"clips lack column(s) {missing}; found {list(clips.columns)}")
    if negatives_per_clip < 0:
        raise ValueError(f"negatives_per_clip must be >= 0, got {negatives_per_clip}")
    duplicated = clips["clip_id"].astype(str).duplicated()
    if duplicated.any():
        raise ValueError(f"repeated clip_id(s) {clips['clip_id'][duplicated].astype(str).unique().tolist()[:3]}")
    table = {name: _unique(words) for name, words in (DEFAULT_SYNONYMS if synonyms is None else synonyms).items()}
    pool = _negative_pool(ontology, table)
    rows: list[dict] = []
    for clip in clips.itertuples(index=False):
        clip_id, path = str(clip.clip_id), str(clip.audio_path)
        mids = [_tag_mid(ontology, tag) for tag in _unique(_as_list(clip.tags))]
        if not mids:
            raise ValueError(f"clip {clip_id!r} has no tags")
        asked: set[str] = set()
        for subset, source in (("hypernym", _hypernyms), ("synonym", _synonyms)):
            for mid in mids:
                for word in source(ontology, table, mid):
                    if word.casefold() not in asked:
                        asked.add(word.casefold())
                        rows.append(_item(clip_id, path, subset, word, "yes", ontology.names[mid]))
        forbidden = _related_words(ontology, table, mids) | asked
        candidates = [(subset, word) for subset, word in pool if word.casefold() not in forbidden]
        keys = [f"{subset}\t{word}" for subset, word in candidates]
        for key in seeded_sample(keys, negatives_per_clip, seed, f"{BENCHMARK}/{clip_id}"):
            subset, word = key.split("\t", 1)
            rows.append(_item(clip_id, path, subset, word, "no", ""))
    return finish_items(rows, BENCHMARK, "synonym_hypernym clips", EXTRA_COLUMNS)


def _item(clip_id: str, path: str, subset: str, word: str, answer: str, tag: str) -> dict:
    return {
        "item_id": f"{BENCHMARK}/{clip_id}/{word}",
        "benchmark": BENCHMARK,
        "subset": subset,
        "audio_path": path,
        "question": QUESTION.format(object=word),
        "choices": [],
        "answer": answer,
        "question_type": "yes_no",
        "clip_id": clip_id,
        "object": word,
        "tag": tag,
    }


def _hypernyms(ontology: Ontology, table: Mapping[str, list[str]], mid: str) -> list[str]:
    names = (ontology.names[ancestor] for ancestor in ontology.ancestors_of(mid))
    return [name for name in names if name not in GENERIC_HYPERNYMS]


def _synonyms(ontology: Ontology, table: Mapping[str, list[str]], mid: str) -> list[str]:
    return list(table.get(ontology.names[mid], []))


def _negative_pool(ontology: Ontology, table: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """(subset, object) pairs in a fixed order, each object once, hypernyms first."""
    hypernyms = sorted({ontology.names[mid] for mid, kids in ontology.children.items() if kids} - GENERIC_HYPERNYMS)
    seen = {name.casefold() for name in hypernyms}
    pool = [("hypernym", name) for name in hypernyms]
    for word in sorted({word for words in table.values() for word in words}):
        if word.casefold() not in seen:
            seen.add(word.casefold())
            pool.append(("synonym", word))
    return pool


def _related_words(ontology: Ontology, table: Mapping[str, list[str]], mids: Iterable[str]) -> set[str]:
    """Casefolded names and synonyms of the tags, their ancestors and their descendants."""
    related: set[str] = set()
    for mid in mids:
        related.update([mid, *ontology.ancestors_of(mid), *_descendants(ontology, mid)])
    words = {ontology.names[mid] for mid in related}
    words.update(word for name in list(words) for word in table.get(name, []))
    return {word.casefold() for word in words}


def _descendants(ontology: Ontology, mid: str) -> set[str]:
    found: set[str] = set()
    frontier = [mid]
    while frontier:
        current = frontier.pop()
        for child in ontology.children[current]:
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _tag_mid(ontology: Ontology, tag: str) -> str:
    return tag if tag in ontology.names else ontology.mid_of(tag)


def _as_list(tags: object) -> list[str]:
    if isinstance(tags, str):
        return [tags]
    return [str(tag) for tag in tags]  # type: ignore[union-attr]


def _unique(words: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for word in (str(word).strip() for word in words):
        if word and word not in seen:
            seen.add(word)
            kept.append(word)
    return kept
