"""The evaluation-item schema every benchmark loader returns, and the helpers the loaders share.

An evaluation item is one question about one audio clip with its gold answer. Every
loader returns a DataFrame whose first columns are ``ITEM_COLUMNS`` (described in
``ITEM_SCHEMA``), in that order; a loader may add benchmark-specific columns after them
(documented in the loader's docstring). Multiple-choice options keep the order the
released files give (a classification loader asked for ``num_options`` keeps the gold and
seeded distractors, see :func:`pick_options`): shuffling them is a later stage's job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

PathArg = str | PathLike[str]
Paths = PathArg | Sequence[PathArg]

ITEM_SCHEMA: dict[str, str] = {
    "item_id": "str, unique within the frame; prefixed with the benchmark name so frames can be concatenated",
    "benchmark": "str, the registry name of the benchmark (a key of LOADERS)",
    "subset": "str, the benchmark's own split of items (sampling strategy, hop count, source corpus...) or ''",
    "audio_path": "str, the clip's path: the loader's audio_dir joined with the name the annotation gives",
    "question": "str, the question text, without any lettered option list",
    "choices": "list[str], the options in released order; empty for yes/no and open questions",
    "answer": "str, the gold answer text: one of choices, 'yes'/'no' for yes/no, free text for open, "
    "the checked rules for instruction",
    "question_type": "str, one of QUESTION_TYPES",
}
ITEM_COLUMNS: tuple[str, ...] = tuple(ITEM_SCHEMA)
# "instruction": an instruction to follow (Speech-IFEval); its answer names what is checked.
QUESTION_TYPES: tuple[str, ...] = ("yes_no", "multiple_choice", "open", "instruction")
YES_NO: tuple[str, ...] = ("yes", "no")


class BenchmarkFileError(ValueError):
    """A benchmark annotation file is missing or malformed; the message names the file and the problem."""


def path_list(paths: Paths, benchmark: str) -> list[Path]:
    """One path or a sequence of paths, as a non-empty list of Paths."""
    if isinstance(paths, str | PathLike):
        return [Path(paths)]
    listed = [Path(path) for path in paths]
    if not listed:
        raise ValueError(f"{benchmark}: no annotation file given")
    return listed


def single_path(paths: Paths, benchmark: str) -> Path:
    listed = path_list(paths, benchmark)
    if len(listed) != 1:
        raise ValueError(f"{benchmark}: expected one annotation path, got {len(listed)}: {[str(p) for p in listed]}")
    return listed[0]


def require_file(path: Path) -> None:
    if not path.is_file():
        raise BenchmarkFileError(f"{path}: annotation file not found")


def read_csv_strings(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """Read a CSV with every cell a verbatim string; errors name the file and the missing column(s)."""
    require_file(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise BenchmarkFileError(f"{path}: not a readable CSV file ({error})") from error
    check_columns(path, table.columns, required)
    return table


def check_columns(path: Path, found: Iterable[str], required: Iterable[str]) -> None:
    found = list(found)
    missing = [column for column in required if column not in found]
    if missing:
        raise BenchmarkFileError(f"{path}: missing column(s) {missing}; found {found}")


def find_column(path: Path, columns: Iterable[str], candidates: Sequence[str], what: str) -> str:
    """The first column matching one of ``candidates``, ignoring case, spaces, '_' and '-'."""
    columns = list(columns)
    by_key = {_column_key(column): column for column in columns}
    for candidate in candidates:
        if _column_key(candidate) in by_key:
            return by_key[_column_key(candidate)]
    raise BenchmarkFileError(f"{path}: no {what} column (looked for {list(candidates)}); found {columns}")


def _column_key(name: str) -> str:
    return "".join(char for char in name.casefold() if char not in " _-")


def line_of(path: Path, index: int) -> str:
    """Name a CSV data row as ``file:line``, the header being line 1 (rows with embedded newlines aside)."""
    return f"{path}:{index + 2}"


def audio_path(audio_dir: Path, name: str) -> str:
    return str(audio_dir / name)


def squash_spaces(text: str) -> str:
    return " ".join(text.split())


def stable_int(text: str) -> int:
    # hash() is salted per process; a digest keeps seeded draws reproducible across runs.
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def seeded_sample(items: Sequence[str], count: int | None, seed: int, key: str) -> list[str]:
    """Up to ``count`` of ``items`` (all when None), uniform without replacement, in their given order.

    The generator is seeded from (seed, key) only, so one class's draw never depends on another's.
    """
    if count is None or count >= len(items):
        return list(items)
    if count < 0:
        raise ValueError(f"sample size must be >= 0 or None, got {count}")
    rng = np.random.default_rng([seed, stable_int(key)])
    picked = sorted(rng.choice(len(items), size=count, replace=False).tolist())
    return [items[index] for index in picked]


def pick_options(choices: Sequence[str], answer: str, num_options: int | None, seed: int, key: str) -> list[str]:
    """The gold ``answer`` and ``num_options - 1`` distractors drawn from ``choices``, in the
    order of ``choices`` (every choice when None or when there are no more than that).

    The BALSa journal asks "three incorrect options along with the correct answer"; the draw is
    seeded by (seed, key), the item's id, so an item keeps its options whatever else is loaded.
    """
    if num_options is not None and num_options < 2:
        raise ValueError(f"num_options must be at least 2 (the answer and a distractor) or None, got {num_options}")
    if answer not in choices:
        raise ValueError(f"{key}: answer {answer!r} is not among the choices {list(choices)}")
    if num_options is None or num_options >= len(choices):
        return list(choices)
    distractors = [choice for choice in choices if choice != answer]
    picked = {answer, *seeded_sample(distractors, num_options - 1, seed, key)}
    return [choice for choice in choices if choice in picked]


def finish_items(rows: list[dict], benchmark: str, source: str, extra_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Check the rows against the item schema and return them as a frame, schema columns first.

    ``source`` names the file(s) the rows came from, for the error messages.
    """
    columns = list(ITEM_COLUMNS) + [column for column in extra_columns if column not in ITEM_SCHEMA]
    for row in rows:
        _check_item(row, benchmark, source)
    frame = pd.DataFrame(rows, columns=columns)
    duplicated = frame["item_id"][frame["item_id"].duplicated()].unique().tolist()
    if duplicated:
        raise BenchmarkFileError(f"{source}: {len(duplicated)} repeated item(s), e.g. {duplicated[:3]}")
    return frame.reset_index(drop=True)


def _check_item(row: Mapping[str, object], benchmark: str, source: str) -> None:
    where = f"{source}: item {row.get('item_id')!r}"
    kind, answer, choices = row["question_type"], row["answer"], row["choices"]
    if kind not in QUESTION_TYPES:
        raise ValueError(f"{where}: question_type {kind!r} is not one of {list(QUESTION_TYPES)}")
    if not isinstance(choices, list):
        raise ValueError(f"{where}: choices must be a list, got {type(choices).__name__}")
    if not str(row["question"]).strip():
        raise BenchmarkFileError(f"{where}: empty question")
    if not str(answer).strip():
        raise BenchmarkFileError(f"{where}: empty answer")
    if kind == "multiple_choice":
        if len(choices) < 2:
            raise BenchmarkFileError(f"{where}: a multiple-choice item needs at least 2 choices, got {choices}")
        if len(set(choices)) != len(choices):
            raise BenchmarkFileError(f"{where}: repeated choices {choices}")
        if answer not in choices:
            raise BenchmarkFileError(f"{where}: answer {answer!r} is not among the choices {choices}")
    elif choices:
        raise ValueError(f"{where}: a {kind} item must have no choices, got {choices}")
    if kind == "yes_no" and answer not in YES_NO:
        raise BenchmarkFileError(f"{where}: a yes/no answer must be 'yes' or 'no', got {answer!r}")
    if row["benchmark"] != benchmark:
        raise ValueError(f"{where}: benchmark {row['benchmark']!r} is not {benchmark!r}")
