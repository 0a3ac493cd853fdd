"""JSON annotation files (the AudioSet ontology, MMAU's questions), read with errors that name the
file and, for a list of objects, the offending entry."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def read_json(path: Path, error: type[ValueError], file_kind: str) -> object:
    """What ``path`` holds; ``error`` names the file when it is missing or not JSON."""
    if not path.is_file():
        raise error(f"{path}: {file_kind} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as cause:
        raise error(f"{path}: not valid JSON ({cause})") from cause


def read_json_list(path: Path, error: type[ValueError], file_kind: str, entry_kind: str) -> list:
    """The list ``path`` holds; ``error`` names the file when it is missing, not JSON or not a list."""
    entries = read_json(path, error, file_kind)
    if not isinstance(entries, list):
        raise error(f"{path}: expected a JSON list of {entry_kind}, got a {type(entries).__name__}")
    return entries


def checked_entry(entry: object, where: str, keys: Iterable[str], error: type[ValueError]) -> dict:
    """``entry`` when it is an object with every one of ``keys``; otherwise ``error`` says what it lacks."""
    if not isinstance(entry, dict):
        raise error(f"{where} is a {type(entry).__name__}, not an object")
    missing = [key for key in keys if key not in entry]
    if missing:
        raise error(f"{where} ({entry.get('id', 'no id')}) lacks key(s) {missing}")
    return entry
