from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from balsa_core.ontology import OntologyError, load_class_labels, load_ontology

SHARED_FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"
REAL_ONTOLOGY = SHARED_FORMATS / "audioset" / "ontology.json"

needs_shared = pytest.mark.skipif(not REAL_ONTOLOGY.is_file(), reason=f"real ontology not found at {REAL_ONTOLOGY}")


def ontology_class(mid: str, name: str, child_ids: Sequence[str] = ()) -> dict[str, object]:
    return {
        "id": mid,
        "name": name,
        "description": f"The sound of {name.lower()}.",
        "citation_uri": "",
        "positive_examples": [],
        "child_ids": list(child_ids),
        "restrictions": [],
    }


def write_json(path: Path, content: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=1))
    return path


# Bark sits under Dog, which has two parents that share the root: a DAG, as in AudioSet.
ANIMAL_CLASSES = [
    ontology_class("/m/animal", "Animal", ["/m/pets", "/m/canidae"]),
    ontology_class("/m/pets", "Domestic animals, pets", ["/m/dog"]),
    ontology_class("/m/canidae", "Canidae, dogs, wolves", ["/m/dog"]),
    ontology_class("/m/dog", "Dog", ["/m/bark"]),
    ontology_class("/m/bark", "Bark"),
]


@pytest.fixture
def animal_ontology_path(tmp_path: Path) -> Path:
    return write_json(tmp_path / "ontology.json", ANIMAL_CLASSES)


def test_names_and_mids(animal_ontology_path: Path) -> None:
    ontology = load_ontology(animal_ontology_path)

    assert len(ontology.names) == 5
    assert ontology.name_of("/m/pets") == "Domestic animals, pets"
    assert ontology.mid_of("Bark") == "/m/bark"
    assert ontology.source == animal_ontology_path


def test_parents_in_file_order(animal_ontology_path: Path) -> None:
    ontology = load_ontology(animal_ontology_path)

    assert ontology.parents_of("/m/dog") == ["/m/pets", "/m/canidae"]
    assert ontology.parents_of("/m/animal") == []


def test_ancestors_nearest_first_without_duplicates(animal_ontology_path: Path) -> None:
    ontology = load_ontology(animal_ontology_path)

    assert ontology.ancestors_of("/m/bark") == ["/m/dog", "/m/pets", "/m/canidae", "/m/animal"]
    assert ontology.ancestors_of("/m/animal") == []


def test_ancestors_survive_a_cycle(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "ontology.json",
        [
            ontology_class("/m/a", "A", ["/m/b"]),
            ontology_class("/m/b", "B", ["/m/a", "/m/c"]),
            ontology_class("/m/c", "C"),
        ],
    )
    ontology = load_ontology(path)

    assert ontology.ancestors_of("/m/c") == ["/m/b", "/m/a"]
    assert ontology.ancestors_of("/m/a") == ["/m/b"]


@pytest.mark.parametrize("lookup", ["name_of", "parents_of", "ancestors_of"])
def test_unknown_mid_names_the_mid_and_the_file(animal_ontology_path: Path, lookup: str) -> None:
    ontology = load_ontology(animal_ontology_path)

    with pytest.raises(ValueError) as raised:
        getattr(ontology, lookup)("/m/cat")

    assert isinstance(raised.value, OntologyError)
    assert "/m/cat" in str(raised.value)
    assert str(animal_ontology_path) in str(raised.value)


def test_unknown_and_ambiguous_names(tmp_path: Path) -> None:
    path = write_json(tmp_path / "ontology.json", [ontology_class("/m/a", "Click"), ontology_class("/m/b", "Click")])
    ontology = load_ontology(path)

    with pytest.raises(OntologyError, match="no class named 'Clack'"):
        ontology.mid_of("Clack")
    with pytest.raises(OntologyError, match="ambiguous") as raised:
        ontology.mid_of("Click")
    assert "/m/a" in str(raised.value) and "/m/b" in str(raised.value)


def test_missing_ontology_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="not found") as raised:
        load_ontology(tmp_path / "ontology.json")

    assert str(tmp_path / "ontology.json") in str(raised.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"classes": []}, "expected a JSON list"),
        (["/m/a"], "not an object"),
        ([{"id": "/m/a", "child_ids": []}], "'name'"),
        ([{"id": "/m/a", "name": "A"}], "'child_ids'"),
        ([ontology_class("", "A")], "'id'"),
        ([{**ontology_class("/m/a", "A"), "child_ids": "/m/b"}], "'child_ids'"),
        ([ontology_class("/m/a", "A"), ontology_class("/m/a", "B")], "defined twice"),
        ([ontology_class("/m/a", "A", ["/m/gone"])], "/m/gone"),
    ],
    ids=[
        "not-a-list",
        "not-an-object",
        "no-name",
        "no-child-ids",
        "empty-id",
        "child-ids-string",
        "dup-id",
        "dangling",
    ],
)
def test_malformed_ontology_names_file_and_key(tmp_path: Path, content: object, problem: str) -> None:
    path = write_json(tmp_path / "ontology.json", content)

    with pytest.raises(OntologyError, match=problem) as raised:
        load_ontology(path)

    assert str(path) in str(raised.value)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ontology.json"
    path.write_text('[{"id": "/m/a",')

    with pytest.raises(OntologyError, match="not valid JSON") as raised:
        load_ontology(path)

    assert str(path) in str(raised.value)


# --- class_labels_indices.csv -------------------------------------------------------------


def write_class_labels(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="") as handle:
        # The real file quotes every display name.
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_class_labels_map_mid_to_display_name(tmp_path: Path) -> None:
    path = write_class_labels(
        tmp_path / "class_labels_indices.csv",
        ["index", "mid", "display_name"],
        [[0, "/m/09x0r", "Speech"], [1, "/m/05zppz", "Male speech, man speaking"]],
    )
    assert 'Male speech, man speaking"' in path.read_text()

    assert load_class_labels(path) == {"/m/09x0r": "Speech", "/m/05zppz": "Male speech, man speaking"}


def test_class_labels_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = write_class_labels(tmp_path / "labels.csv", ["index", "mid", "name"], [[0, "/m/09x0r", "Speech"]])

    with pytest.raises(OntologyError) as raised:
        load_class_labels(path)

    assert str(path) in str(raised.value)
    assert "display_name" in str(raised.value)


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([[0, "/m/a", "A"], [1, "", "B"]], "empty"),
        ([[0, "/m/a", "A"], [1, "/m/a", "B"]], "listed twice"),
    ],
)
def test_class_labels_bad_row_names_file_and_line(tmp_path: Path, rows: list[list[object]], problem: str) -> None:
    path = write_class_labels(tmp_path / "labels.csv", ["index", "mid", "display_name"], rows)

    with pytest.raises(OntologyError, match=problem) as raised:
        load_class_labels(path)

    assert f"{path}:3" in str(raised.value)


def test_class_labels_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="not found") as raised:
        load_class_labels(tmp_path / "class_labels_indices.csv")

    assert str(tmp_path / "class_labels_indices.csv") in str(raised.value)


# --- the real ontology --------------------------------------------------------------------


@pytest.mark.shared
@needs_shared
def test_real_ontology_names() -> None:
    ontology = load_ontology(REAL_ONTOLOGY)

    assert len(ontology.names) == 632
    assert ontology.name_of("/m/09x0r") == "Speech"
    assert ontology.mid_of("Speech") == "/m/09x0r"
    assert ontology.name_of("/m/05zppz") == "Male speech, man speaking"


@pytest.mark.shared
@needs_shared
def test_real_ontology_hierarchy() -> None:
    ontology = load_ontology(REAL_ONTOLOGY)

    assert ontology.parents_of("/m/09x0r") == ["/m/09l8g"]  # Speech < Human voice
    assert ontology.ancestors_of("/m/09x0r") == ["/m/09l8g", "/m/0dgw9r"]  # ... < Human sounds
    guitar_ancestors = [ontology.name_of(mid) for mid in ontology.ancestors_of("/m/02sgy")]
    assert guitar_ancestors == ["Guitar", "Plucked string instrument", "Musical instrument", "Music"]
    for mid in ontology.names:
        ancestors = ontology.ancestors_of(mid)
        assert len(ancestors) == len(set(ancestors))
        assert mid not in ancestors
        assert set(ontology.parents_of(mid)) <= set(ancestors)
    several_parents = [mid for mid in ontology.names if len(ontology.parents_of(mid)) > 1]
    assert several_parents  # the real ontology is a DAG, not a tree
