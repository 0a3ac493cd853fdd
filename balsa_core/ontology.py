"""The AudioSet ontology: class names by mid and the hypernym tree behind them.

``ontology.json`` is a list of classes ``{id, name, description, citation_uri,
positive_examples, child_ids, restrictions}``; ``id`` is the class's mid (such as
``/m/09x0r``). A class may have several parents, so the tree is really a DAG.
``class_labels_indices.csv`` (``index,mid,display_name``) names the 527 classes
AudioSet labels use, without the tree.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from balsa_core.json_files import checked_entry, read_json_list

# ontology.json entries carry more keys; only these are read.
CLASS_KEYS = ("id", "name", "child_ids")
CLASS_LABEL_COLUMNS = ("mid", "display_name")


class OntologyError(ValueError):
    """An ontology or class-label file is missing or malformed, or a lookup failed; the message names the file."""


@dataclass(frozen=True)
class Ontology:
    source: Path
    names: Mapping[str, str]
    children: Mapping[str, tuple[str, ...]]
    parents: Mapping[str, tuple[str, ...]]
    mids_by_name: Mapping[str, tuple[str, ...]]

    def _check_known(self, mid: str) -> None:
        if mid not in self.names:
            raise OntologyError(f"{self.source}: unknown class mid {mid!r}")

    def name_of(self, mid: str) -> str:
        self._check_known(mid)
        return self.names[mid]

    def parents_of(self, mid: str) -> list[str]:
        self._check_known(mid)
        return list(self.parents[mid])

    def ancestors_of(self, mid: str) -> list[str]:
        """All hypernyms of ``mid``, nearest first (breadth first), each once, never ``mid`` itself."""
        self._check_known(mid)
        seen = {mid}
        ancestors: list[str] = []
        frontier = [mid]
        while frontier:
            next_frontier = []
            for current in frontier:
                for parent in self.parents[current]:
                    # The seen set also stops a malformed file's cycle from looping forever.
                    if parent not in seen:
                        seen.add(parent)
                        ancestors.append(parent)
                        next_frontier.append(parent)
            frontier = next_frontier
        return ancestors

    def mid_of(self, name: str) -> str:
        mids = self.mids_by_name.get(name, ())
        if not mids:
            raise OntologyError(f"{self.source}: no class named {name!r}")
        if len(mids) > 1:
            raise OntologyError(f"{self.source}: class name {name!r} is ambiguous: mids {list(mids)}")
        return mids[0]


def _checked_class(path: Path, position: int, entry: object) -> tuple[str, str, tuple[str, ...]]:
    """``(mid, name, child_ids)`` of the class at ``position`` in the list."""
    where = f"{path}: class #{position}"
    entry = checked_entry(entry, where, CLASS_KEYS, OntologyError)
    mid, name, child_ids = entry["id"], entry["name"], entry["child_ids"]
    if not isinstance(mid, str) or not mid.strip():
        raise OntologyError(f"{where}: key 'id' must be a non-empty string, got {mid!r}")
    if not isinstance(name, str) or not name.strip():
        raise OntologyError(f"{where} ({mid}): key 'name' must be a non-empty string, got {name!r}")
    if not isinstance(child_ids, list) or not all(isinstance(child, str) for child in child_ids):
        raise OntologyError(f"{where} ({mid}): key 'child_ids' must be a list of strings, got {child_ids!r}")
    return mid, name.strip(), tuple(child_ids)


def _parents_from_children(children: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    parents: dict[str, list[str]] = {mid: [] for mid in children}
    for parent, child_ids in children.items():
        for child in child_ids:
            parents[child].append(parent)
    return {mid: tuple(found) for mid, found in parents.items()}


def load_ontology(path: Path | str) -> Ontology:
    """Load ``ontology.json``; raise OntologyError naming the file and the offending class or key."""
    path = Path(path)
    entries = read_json_list(path, OntologyError, "ontology file", "classes")
    names: dict[str, str] = {}
    children: dict[str, tuple[str, ...]] = {}
    for position, entry in enumerate(entries):
        mid, name, child_ids = _checked_class(path, position, entry)
        if mid in names:
            raise OntologyError(f"{path}: class #{position}: mid {mid!r} is defined twice")
        names[mid] = name
        children[mid] = child_ids
    for mid, child_ids in children.items():
        undefined = [child for child in child_ids if child not in names]
        if undefined:
            raise OntologyError(f"{path}: class {mid} ({names[mid]}) lists undefined child_ids {undefined}")
    mids_by_name: dict[str, list[str]] = {}
    for mid, name in names.items():
        mids_by_name.setdefault(name, []).append(mid)
    return Ontology(
        source=path,
        names=MappingProxyType(names),
        children=MappingProxyType(children),
        parents=MappingProxyType(_parents_from_children(children)),
        mids_by_name=MappingProxyType({name: tuple(mids) for name, mids in mids_by_name.items()}),
    )


def load_class_labels(path: Path | str) -> dict[str, str]:
    """Map mid -> display name from ``class_labels_indices.csv``; errors name the file and the column or line."""
    path = Path(path)
    if not path.is_file():
        raise OntologyError(f"{path}: class labels file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            missing = [column for column in CLASS_LABEL_COLUMNS if column not in columns]
            if missing:
                raise OntologyError(f"{path}: missing column(s) {missing}; found {columns}")
            records = list(reader)
    except (csv.Error, UnicodeDecodeError) as error:
        raise OntologyError(f"{path}: not a readable CSV file ({error})") from error
    names: dict[str, str] = {}
    # The header is line 1.
    for line, record in enumerate(records, start=2):
        mid = (record["mid"] or "").strip()
        name = (record["display_name"] or "").strip()
        if not mid or not name:
            raise OntologyError(f"{path}:{line}: empty 'mid' or 'display_name'")
        if mid in names:
            raise OntologyError(f"{path}:{line}: mid {mid!r} is listed twice")
        names[mid] = name
    return names
