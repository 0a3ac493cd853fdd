"""Loaders for benchmarks released as question files: Clotho-AQA, audio hallucination, MMAU, SAKURA, audio entailment.

Each loader reads the release's own annotation layout (checked against real samples) and
returns evaluation items in the common schema of ``common.ITEM_SCHEMA``.
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path, PurePosixPath

import pandas as pd

from balsa_core.evaluation.loaders.common import (
    YES_NO,
    BenchmarkFileError,
    PathArg,
    Paths,
    audio_path,
    check_columns,
    finish_items,
    line_of,
    path_list,
    read_csv_strings,
    require_file,
    squash_spaces,
)
from balsa_core.json_files import checked_entry, read_json_list

# --------------------------------------------------------------------------- Clotho-AQA

CLOTHO_AQA_COLUMNS = ("file_name", "QuestionText", "answer")


def load_clotho_aqa(paths: Paths, audio_dir: PathArg, *, min_annotators: int = 2) -> pd.DataFrame:
    """Clotho-AQA questions whose annotators all gave the same answer (the papers keep only those).

    ``clotho_aqa_{train,val,test}.csv`` hold ``file_name,QuestionText,answer,confidence``, one
    row per annotator (three per question). Rows are grouped by (file_name, QuestionText);
    answers are compared stripped and lower-cased, and a group is kept when they all agree and
    at least ``min_annotators`` rows back it. A unanimous "yes"/"no" gives a ``yes_no`` item,
    any other answer an ``open`` one. ``subset`` is the split named in the file name
    (``clotho_aqa_test.csv`` -> "test", else ""). Extra column: ``annotators`` (rows per question).
    Audio: ``audio_dir / file_name``.
    """
    audio_dir = Path(audio_dir)
    rows: list[dict] = []
    listed = path_list(paths, "clotho_aqa")
    for path in listed:
        table = read_csv_strings(path, CLOTHO_AQA_COLUMNS)
        subset = _clotho_split(path)
        for column in ("file_name", "QuestionText"):
            blank = table.index[table[column].str.strip() == ""]
            if len(blank):
                raise BenchmarkFileError(f"{line_of(path, int(blank[0]))}: empty {column!r}")
        table = table.assign(
            _file=table["file_name"].str.strip(),
            _question=table["QuestionText"].map(squash_spaces),
            _answer=table["answer"].map(squash_spaces).str.lower(),
        )
        for (file_name, question), group in table.groupby(["_file", "_question"], sort=False):
            answers = set(group["_answer"])
            if len(answers) != 1 or len(group) < min_annotators:
                continue
            answer = answers.pop()
            if not answer:
                continue
            rows.append(
                {
                    "item_id": f"clotho_aqa|{file_name}|{question}",
                    "benchmark": "clotho_aqa",
                    "subset": subset,
                    "audio_path": audio_path(audio_dir, file_name),
                    "question": question,
                    "choices": [],
                    "answer": answer,
                    "question_type": "yes_no" if answer in YES_NO else "open",
                    "annotators": len(group),
                }
            )
    return finish_items(rows, "clotho_aqa", _sources(listed), ["annotators"])


def _clotho_split(path: Path) -> str:
    match = re.fullmatch(r"clotho_aqa_(\w+)", path.stem)
    return match.group(1) if match else ""


# --------------------------------------------------------------------------- audio hallucination

HALLUCINATION_COLUMNS = ("entry_id", "audio_index", "prompt_text", "object", "label", "sampling")


def load_audio_hallucination(paths: Paths, audio_dir: PathArg) -> pd.DataFrame:
    """The object-hallucination benchmark's released question files (AudioCaps clips, POPE-style).

    ``{random,popular,adversarial}_test.txt`` start with ``#`` comment lines (title, total,
    column list) and a blank line, then a tab-separated table with header ``entry_id,
    audio_index, prompt_text, object, attribute, label, sampling``. Every row is a ``yes_no``
    item: the question is ``prompt_text`` verbatim (four phrasings per object), the answer the
    lower-cased ``label`` (Yes/No), ``subset`` the ``sampling`` column. Extra column: ``object``.
    Audio: ``audio_dir / f"{audio_index}.wav"`` (the release's ``audio/`` folder).
    """
    audio_dir = Path(audio_dir)
    rows: list[dict] = []
    listed = path_list(paths, "audio_hallucination")
    for path in listed:
        for line_number, record in _read_commented_tsv(path, HALLUCINATION_COLUMNS):
            where = f"{path}:{line_number}"
            label = record["label"].strip().lower()
            if label not in YES_NO:
                raise BenchmarkFileError(f"{where}: label must be Yes or No, got {record['label']!r}")
            for column in ("entry_id", "audio_index", "prompt_text", "sampling"):
                if not record[column].strip():
                    raise BenchmarkFileError(f"{where}: empty {column!r}")
            sampling = record["sampling"].strip()
            rows.append(
                {
                    "item_id": f"audio_hallucination|{sampling}|{record['entry_id'].strip()}",
                    "benchmark": "audio_hallucination",
                    "subset": sampling,
                    "audio_path": audio_path(audio_dir, f"{record['audio_index'].strip()}.wav"),
                    "question": record["prompt_text"].strip(),
                    "choices": [],
                    "answer": label,
                    "question_type": "yes_no",
                    "object": record["object"].strip(),
                }
            )
    return finish_items(rows, "audio_hallucination", _sources(listed), ["object"])


def _read_commented_tsv(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, record) for each data line of a tab-separated table after ``#`` comment lines."""
    require_file(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise BenchmarkFileError(f"{path}: not UTF-8 text ({error})") from error
    header: list[str] | None = None
    records: list[tuple[int, dict[str, str]]] = []
    # QUOTE_NONE: prompts are never quoted, and a stray '"' must stay part of the text.
    for line_number, fields in enumerate(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
        if not fields or not "".join(fields).strip():
            continue
        if header is None:
            if fields[0].lstrip().startswith("#"):
                continue
            header = [field.strip() for field in fields]
            check_columns(path, header, required)
            continue
        if len(fields) != len(header):
            raise BenchmarkFileError(
                f"{path}:{line_number}: expected {len(header)} tab-separated fields, got {len(fields)}"
            )
        records.append((line_number, dict(zip(header, fields))))
    if header is None:
        raise BenchmarkFileError(f"{path}: no header line after the '#' comments; expected columns {list(required)}")
    return records


# --------------------------------------------------------------------------- MMAU

MMAU_KEYS = ("id", "audio_id", "question", "choices", "answer", "task")
MMAU_EXTRA = ("category", "sub_category", "difficulty", "dataset")


def load_mmau(paths: Paths, audio_dir: PathArg, *, tasks: tuple[str, ...] = ("sound",)) -> pd.DataFrame:
    """MMAU test-mini multiple-choice items of the given tasks (the papers report the sound task).

    ``mmau-test-mini.json`` is a list of ``{id, audio_id, question, choices, answer, dataset,
    task (sound/music/speech), split, category, sub-category, difficulty}``. ``audio_id`` is a
    path relative to the release root (``./test-mini-audios/<id>.wav``); the audio path is
    ``audio_dir`` joined with it, so ``audio_dir`` is the folder holding ``test-mini-audios/``.
    ``subset`` is the task. Choices are stripped and a repeated choice is dropped (first kept;
    the release repeats options in some speech/music items); the answer must be one of them.
    Extra columns: ``category``, ``sub_category``, ``difficulty``, ``dataset`` (list-valued
    labels, also when stored as a list's repr, are joined with ", ").
    """
    audio_dir = Path(audio_dir)
    wanted = {tasks} if isinstance(tasks, str) else set(tasks)
    rows: list[dict] = []
    listed = path_list(paths, "mmau")
    for path in listed:
        for position, entry in enumerate(read_json_list(path, BenchmarkFileError, "annotation file", "questions")):
            where = f"{path}: question #{position}"
            entry = checked_entry(entry, where, MMAU_KEYS, BenchmarkFileError)
            if entry["task"] not in wanted:
                continue
            choices = entry["choices"]
            if not isinstance(choices, list) or not all(isinstance(choice, str) for choice in choices):
                raise BenchmarkFileError(f"{where} ({entry['id']}): 'choices' must be a list of strings")
            rows.append(
                {
                    "item_id": f"mmau|{entry['id']}",
                    "benchmark": "mmau",
                    "subset": str(entry["task"]),
                    "audio_path": audio_path(audio_dir, _relative_audio_id(where, str(entry["audio_id"]))),
                    "question": str(entry["question"]).strip(),
                    # Stripped (two sound items end in a space) and repeats dropped, first kept:
                    # some speech/music items list an option twice, which would make letters ambiguous.
                    "choices": list(dict.fromkeys(choice.strip() for choice in choices)),
                    "answer": str(entry["answer"]).strip(),
                    "question_type": "multiple_choice",
                    "category": _mmau_label(entry.get("category", "")),
                    "sub_category": _mmau_label(entry.get("sub-category", "")),
                    "difficulty": _mmau_label(entry.get("difficulty", "")),
                    "dataset": _mmau_label(entry.get("dataset", "")),
                }
            )
    return finish_items(rows, "mmau", _sources(listed), MMAU_EXTRA)


def _mmau_label(value: object) -> str:
    """A metadata label as text: some entries hold a list, or a list's repr such as "['Reasoning']"."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            return value.strip()
    if isinstance(value, list):
        return ", ".join(str(item).strip() for item in value)
    return "" if value is None else str(value).strip()


def _relative_audio_id(where: str, audio_id: str) -> str:
    parts = [part for part in PurePosixPath(audio_id.strip()).parts if part not in (".", "/")]
    if not parts or ".." in parts:
        raise BenchmarkFileError(f"{where}: 'audio_id' {audio_id!r} is not a relative path inside the release")
    return str(PurePosixPath(*parts))


# --------------------------------------------------------------------------- SAKURA

SAKURA_COLUMNS = ("file", "single_instruction", "single_answer", "multi_instruction", "multi_answer")
SAKURA_HOPS = ("single", "multi")
_OPTION_MARK = re.compile(r"\(([a-z])\)\s")
_LETTERED_ANSWER = re.compile(r"\s*\(([a-z])\)\s*(.*?)\s*", re.DOTALL)


def load_sakura(paths: Paths, audio_dir: PathArg) -> pd.DataFrame:
    """SAKURA tracks: two multiple-choice items per clip, a single-hop and a multi-hop question.

    ``<Track>_metadata.csv`` (Animal, Emotion, Gender, Language) holds ``file, attribute_label,
    single_instruction, single_answer, multi_instruction, multi_answer``. Each instruction ends
    with its options, ``... (a) dog (b) crow (c) cow (d) rooster``; they are parsed into
    ``choices`` (spaces squashed) and the question keeps only the text before ``(a)``. The
    answer, ``(a) dog`` (some tracks put a space first), gives ``answer_letter`` and the option
    text, which must match the lettered option. ``subset`` is "single" or "multi". Extra columns:
    ``track`` (from the file name), ``answer_letter``, ``attribute_label``.
    Audio: ``audio_dir / file`` (load tracks stored apart with their own ``audio_dir``).
    """
    audio_dir = Path(audio_dir)
    rows: list[dict] = []
    listed = path_list(paths, "sakura")
    for path in listed:
        table = read_csv_strings(path, SAKURA_COLUMNS)
        track = path.stem.removesuffix("_metadata")
        for index, record in enumerate(table.to_dict("records")):
            where = line_of(path, index)
            file_name = record["file"].strip()
            if not file_name:
                raise BenchmarkFileError(f"{where}: empty 'file'")
            for hop in SAKURA_HOPS:
                question, choices = _split_options(where, f"{hop}_instruction", record[f"{hop}_instruction"])
                letter, answer = _lettered_answer(where, f"{hop}_answer", record[f"{hop}_answer"], choices)
                rows.append(
                    {
                        "item_id": f"sakura|{track}|{file_name}|{hop}",
                        "benchmark": "sakura",
                        "subset": hop,
                        "audio_path": audio_path(audio_dir, file_name),
                        "question": question,
                        "choices": choices,
                        "answer": answer,
                        "question_type": "multiple_choice",
                        "track": track,
                        "answer_letter": letter,
                        "attribute_label": record.get("attribute_label", "").strip(),
                    }
                )
    return finish_items(rows, "sakura", _sources(listed), ["track", "answer_letter", "attribute_label"])


def _split_options(where: str, column: str, instruction: str) -> tuple[str, list[str]]:
    """(stem, options) of an instruction ending in ``(a) ... (b) ...``: the last run of consecutive letters from a."""
    marks = list(_OPTION_MARK.finditer(instruction + " "))
    run: list[re.Match[str]] = []
    for start, mark in enumerate(marks):
        if mark.group(1) != "a":
            continue
        candidate = [mark]
        for later in marks[start + 1 :]:
            if ord(later.group(1)) == ord(candidate[-1].group(1)) + 1:
                candidate.append(later)
        if len(candidate) >= 2:
            run = candidate
    if not run:
        raise BenchmarkFileError(f"{where}: {column!r} lists no options '(a) ... (b) ...': {instruction!r}")
    ends = [mark.start() for mark in run[1:]] + [len(instruction)]
    options = [squash_spaces(instruction[mark.end() : end]) for mark, end in zip(run, ends)]
    stem = squash_spaces(instruction[: run[0].start()])
    if not stem or not all(options):
        raise BenchmarkFileError(f"{where}: {column!r} has an empty question or option: {instruction!r}")
    return stem, options


def _lettered_answer(where: str, column: str, text: str, choices: list[str]) -> tuple[str, str]:
    match = _LETTERED_ANSWER.fullmatch(text)
    if not match:
        raise BenchmarkFileError(f"{where}: {column!r} is not like '(a) option': {text!r}")
    letter, option = match.group(1), squash_spaces(match.group(2))
    position = ord(letter) - ord("a")
    if position >= len(choices):
        raise BenchmarkFileError(f"{where}: {column!r} names option ({letter}) but only {len(choices)} are listed")
    if option and option != choices[position]:
        raise BenchmarkFileError(
            f"{where}: {column!r} says ({letter}) {option!r} but option ({letter}) is {choices[position]!r}"
        )
    return letter, choices[position]


# --------------------------------------------------------------------------- audio entailment

ENTAILMENT_COLUMNS = ("Dataset", "Audio file", "Caption", "Entailment", "Neutral", "Contradiction")
ENTAILMENT_LABELS = ("entailment", "neutral", "contradiction")
ENTAILMENT_CLASSIFY_QUESTION = (
    "Based on what you hear, is the following hypothesis an entailment, neutral, or a contradiction? "
    "Hypothesis: {hypothesis}"
)
ENTAILMENT_SELECT_QUESTION = "Based on what you hear, which of the following hypotheses is {label}?"
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")


def load_audio_entailment(
    paths: Paths,
    audio_dir: PathArg,
    *,
    mode: str = "classify",
    select_labels: tuple[str, ...] = ("entailment",),
    audio_suffix: str = ".wav",
) -> pd.DataFrame:
    """Audio entailment (Deshmukh et al.): hypotheses about a clip, labelled entailment/neutral/contradiction.

    ``*_entailment_*.csv`` hold ``Dataset, Audio file, Caption, Entailment, Neutral,
    Contradiction``: one hypothesis per label per row. ``Caption`` is the premise text (AudioCaps:
    one caption; Clotho: a Python-list string of five, parsed with ``ast.literal_eval``); it is
    kept in the extra column ``captions`` (a list) and never shown to the model. ``subset`` is
    "clotho" or "audiocaps" from ``Dataset`` (ClothoV2 / Audiocaps).

    ``mode="classify"`` (default): one item per (row, hypothesis) asking which of
    ``ENTAILMENT_LABELS`` the hypothesis is, choices ``["entailment", "neutral", "contradiction"]``.
    ``mode="select"``: the BALSa journal's wording, one item per (row, label in
    ``select_labels``) asking which of the row's three hypotheses (choices, in column order) is
    that label. Extra columns: ``label``, ``hypothesis`` (classify: the asked hypothesis;
    select: the gold one), ``captions``.
    Audio: ``audio_dir / "Audio file"``, with ``audio_suffix`` added to names that have no audio
    extension (AudioCaps rows give bare YouTube ids such as ``Y7fmOlUlwoNg``).
    """
    if mode not in ("classify", "select"):
        raise ValueError(f"audio_entailment: mode must be 'classify' or 'select', got {mode!r}")
    unknown = [label for label in select_labels if label not in ENTAILMENT_LABELS]
    if unknown:
        raise ValueError(f"audio_entailment: unknown select_labels {unknown}; known {list(ENTAILMENT_LABELS)}")
    audio_dir = Path(audio_dir)
    rows: list[dict] = []
    listed = path_list(paths, "audio_entailment")
    for path in listed:
        table = read_csv_strings(path, ENTAILMENT_COLUMNS)
        for index, record in enumerate(table.to_dict("records")):
            where = line_of(path, index)
            subset = _entailment_subset(where, record["Dataset"])
            name = record["Audio file"].strip()
            if not name:
                raise BenchmarkFileError(f"{where}: empty 'Audio file'")
            if not name.lower().endswith(AUDIO_SUFFIXES):
                name += audio_suffix
            hypotheses = {label: squash_spaces(record[label.capitalize()]) for label in ENTAILMENT_LABELS}
            empty = [label.capitalize() for label, text in hypotheses.items() if not text]
            if empty:
                raise BenchmarkFileError(f"{where}: empty hypothesis column(s) {empty}")
            common = {
                "benchmark": "audio_entailment",
                "subset": subset,
                "audio_path": audio_path(audio_dir, name),
                "question_type": "multiple_choice",
                "captions": _captions(where, record["Caption"]),
            }
            row_id = f"audio_entailment|{subset}|{path.stem}:{index + 2}"
            if mode == "classify":
                for label, hypothesis in hypotheses.items():
                    rows.append(
                        {
                            **common,
                            "item_id": f"{row_id}|{label}",
                            "question": ENTAILMENT_CLASSIFY_QUESTION.format(hypothesis=hypothesis),
                            "choices": list(ENTAILMENT_LABELS),
                            "answer": label,
                            "label": label,
                            "hypothesis": hypothesis,
                        }
                    )
            else:
                if len(set(hypotheses.values())) != len(hypotheses):
                    raise BenchmarkFileError(f"{where}: two hypotheses are the same text: {hypotheses}")
                for label in select_labels:
                    rows.append(
                        {
                            **common,
                            "item_id": f"{row_id}|select-{label}",
                            "question": ENTAILMENT_SELECT_QUESTION.format(label=label),
                            "choices": list(hypotheses.values()),
                            "answer": hypotheses[label],
                            "label": label,
                            "hypothesis": hypotheses[label],
                        }
                    )
    return finish_items(rows, "audio_entailment", _sources(listed), ["label", "hypothesis", "captions"])


def _entailment_subset(where: str, dataset: str) -> str:
    key = dataset.strip().casefold()
    for subset in ("clotho", "audiocaps"):
        if key.startswith(subset):
            return subset
    raise BenchmarkFileError(f"{where}: 'Dataset' must name Clotho or AudioCaps, got {dataset!r}")


def _captions(where: str, caption: str) -> list[str]:
    text = caption.strip()
    if not text.startswith("["):
        return [squash_spaces(text)] if text else []
    try:
        # literal_eval evaluates literals only: a caption cell can never run code.
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as error:
        raise BenchmarkFileError(f"{where}: 'Caption' is not a valid list literal ({error})") from error
    if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
        raise BenchmarkFileError(f"{where}: 'Caption' must be a list of strings, got {text[:80]!r}")
    return [squash_spaces(item) for item in parsed]


def _sources(paths: list[Path]) -> str:
    return ", ".join(str(path) for path in paths)
