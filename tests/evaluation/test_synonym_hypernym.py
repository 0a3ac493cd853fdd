from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from helpers import SHARED_FORMATS, uses_real_sample

from balsa_core.evaluation.loaders.common import ITEM_COLUMNS
from balsa_core.evaluation.synonym_hypernym import (
    DEFAULT_SYNONYMS,
    GENERIC_HYPERNYMS,
    QUESTION,
    build_synonym_hypernym_items,
)
from balsa_core.ontology import Ontology, load_ontology

REAL_ONTOLOGY = SHARED_FORMATS / "audioset" / "ontology.json"

# A DAG: Dog has two parents; Sounds of things is a generic root that is never asked about.
CLASSES = [
    ("/m/animal", "Animal", ["/m/pets", "/m/canidae", "/m/wild"]),
    ("/m/pets", "Domestic animals, pets", ["/m/dog", "/m/cat"]),
    ("/m/canidae", "Canidae, dogs, wolves", ["/m/dog"]),
    ("/m/dog", "Dog", ["/m/bark"]),
    ("/m/bark", "Bark", []),
    ("/m/cat", "Cat", []),
    ("/m/wild", "Wild animals", ["/m/roar"]),
    ("/m/roar", "Roaring cats (lions, tigers)", []),
    ("/t/things", "Sounds of things", ["/m/vehicle", "/m/alarm"]),
    ("/m/vehicle", "Vehicle", ["/m/car", "/m/horn"]),
    ("/m/car", "Car", []),
    ("/m/horn", "Vehicle horn, car horn, honking", []),
    ("/m/alarm", "Alarm", ["/m/siren"]),
    ("/m/siren", "Siren", []),
    ("/m/music", "Music", ["/m/guitar"]),
    ("/m/guitar", "Guitar", []),
]
SYNONYMS = {"Dog": ["doggy", "canine"], "Cat": ["kitty"], "Car": ["automobile"], "Guitar": ["axe"]}


@pytest.fixture
def ontology(tmp_path: Path) -> Ontology:
    entries = [{"id": mid, "name": name, "child_ids": kids} for mid, name, kids in CLASSES]
    path = tmp_path / "ontology.json"
    path.write_text(json.dumps(entries))
    return load_ontology(path)


def clips(*rows: tuple[str, Sequence[str]]) -> pd.DataFrame:
    return pd.DataFrame([{"clip_id": c, "audio_path": f"/audio/{c}.wav", "tags": list(t)} for c, t in rows])


def build(ontology: Ontology, frame: pd.DataFrame, negatives: int = 3, seed: int = 0) -> pd.DataFrame:
    return build_synonym_hypernym_items(frame, ontology, SYNONYMS, negatives, seed)


def test_schema_and_positive_counts(ontology: Ontology) -> None:
    items = build(ontology, clips(("a", ["Dog"]), ("b", ["Siren", "Car"])), negatives=2)
    assert tuple(items.columns[: len(ITEM_COLUMNS)]) == ITEM_COLUMNS
    assert set(items["question_type"]) == {"yes_no"} and all(c == [] for c in items["choices"])
    assert items["item_id"].is_unique and set(items["benchmark"]) == {"synonym_hypernym"}
    a = items[items["clip_id"] == "a"]
    yes = a[a["answer"] == "yes"]
    assert sorted(yes.loc[yes["subset"] == "hypernym", "object"]) == [
        "Animal",
        "Canidae, dogs, wolves",
        "Domestic animals, pets",
    ]
    assert sorted(yes.loc[yes["subset"] == "synonym", "object"]) == ["canine", "doggy"]
    assert (a["answer"] == "no").sum() == 2
    b_yes = items[(items["clip_id"] == "b") & (items["answer"] == "yes")]
    # Sounds of things is generic; Vehicle and Alarm are asked once each.
    assert sorted(b_yes["object"]) == ["Alarm", "Vehicle", "automobile"]
    assert (items["question"] == items["object"].map(lambda o: QUESTION.format(object=o))).all()
    assert items.loc[items["object"] == "doggy", "question"].item() == "Is there a sound of doggy in the audio?"


def test_hypernyms_are_true_ancestors(ontology: Ontology) -> None:
    items = build(ontology, clips(("a", ["Bark"]), ("b", ["Guitar", "Cat"])))
    for row in items[(items["answer"] == "yes") & (items["subset"] == "hypernym")].itertuples():
        ancestors = {ontology.names[m] for m in ontology.ancestors_of(ontology.mid_of(row.tag))}
        assert row.object in ancestors and row.object != row.tag and row.object not in GENERIC_HYPERNYMS
    bark = items[(items["clip_id"] == "a") & (items["answer"] == "yes")]
    assert "Dog" in set(bark["object"]) and "Animal" in set(bark["object"])


def test_negatives_unrelated_to_clip_tags(ontology: Ontology) -> None:
    frame = clips(("a", ["Dog"]), ("b", ["Bark"]), ("c", ["Car"]), ("d", ["Animal"]))
    items = build(ontology, frame, negatives=50)
    for clip in frame.itertuples():
        negatives = set(items.loc[(items["clip_id"] == clip.clip_id) & (items["answer"] == "no"), "object"])
        assert negatives
        for tag in clip.tags:
            mid = ontology.mid_of(tag)
            related = {tag, *(ontology.names[m] for m in ontology.ancestors_of(mid))}
            related |= {s for name in related for s in SYNONYMS.get(name, [])}
            assert not negatives & related
    # A Bark clip is a Dog clip: neither Dog nor its synonyms are negatives; an Animal clip has no animal negatives.
    assert not {"Dog", "doggy", "canine"} & set(
        items.loc[(items["clip_id"] == "b") & (items["answer"] == "no"), "object"]
    )
    animal_negatives = set(items.loc[(items["clip_id"] == "d") & (items["answer"] == "no"), "object"])
    assert animal_negatives == {"Vehicle", "Alarm", "Music", "automobile", "axe"}


def test_negative_count_capped_and_subsets(ontology: Ontology) -> None:
    items = build(ontology, clips(("a", ["Siren"])), negatives=3)
    negatives = items[items["answer"] == "no"]
    assert len(negatives) == 3 and set(negatives["subset"]) <= {"hypernym", "synonym"}
    assert (negatives["tag"] == "").all()
    assert len(build(ontology, clips(("a", ["Siren"])), negatives=0)) == 1  # Alarm only


def test_deterministic_and_independent_of_other_clips(ontology: Ontology) -> None:
    alone = build(ontology, clips(("x", ["Guitar"])), negatives=4, seed=7)
    again = build(ontology, clips(("x", ["Guitar"])), negatives=4, seed=7)
    pd.testing.assert_frame_equal(alone, again)
    crowded = build(ontology, clips(("a", ["Dog"]), ("x", ["Guitar"]), ("z", ["Car"])), negatives=4, seed=7)
    pd.testing.assert_frame_equal(crowded[crowded["clip_id"] == "x"].reset_index(drop=True), alone)
    draws = {tuple(build(ontology, clips(("x", ["Guitar"])), 4, s)["object"]) for s in range(10)}
    assert len(draws) > 1


def test_default_synonyms_and_errors(ontology: Ontology) -> None:
    items = build_synonym_hypernym_items(clips(("a", ["Vehicle horn, car horn, honking"])), ontology, None, 0, 0)
    assert "honk" in set(items.loc[items["subset"] == "synonym", "object"])
    with pytest.raises(ValueError, match="repeated clip_id"):
        build(ontology, clips(("a", ["Dog"]), ("a", ["Cat"])))
    with pytest.raises(ValueError, match="no class named"):
        build(ontology, clips(("a", ["Unicorn"])))
    with pytest.raises(ValueError, match="no tags"):
        build(ontology, clips(("a", [])))


@uses_real_sample(REAL_ONTOLOGY)
def test_real_ontology() -> None:
    ontology = load_ontology(REAL_ONTOLOGY)
    assert all(name in ontology.mids_by_name for name in DEFAULT_SYNONYMS)
    frame = clips(("dog", ["Dog"]), ("siren", ["Siren", "Speech"]))
    items = build_synonym_hypernym_items(frame, ontology, None, 10, 0)
    dog_yes = set(items.loc[(items["clip_id"] == "dog") & (items["answer"] == "yes"), "object"])
    assert {"Domestic animals, pets", "Animal", "doggy", "canine", "puppy"} <= dog_yes
    siren = items[items["clip_id"] == "siren"]
    assert {"Alarm", "Human voice", "talking"} <= set(siren.loc[siren["answer"] == "yes", "object"])
    assert not GENERIC_HYPERNYMS & set(items["object"])
    assert (items.groupby("clip_id")["answer"].apply(lambda a: (a == "no").sum()) == 10).all()
