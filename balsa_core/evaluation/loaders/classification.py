"""Loaders for classification corpora the papers turn into questions: Nonspeech7k, CochlScene, EDANSA-2019.

No samples of these releases are at hand; the layouts below follow the corpora's own
documentation (cited in each docstring) and the readers fail with a message naming the file
and the column when a file does not match. Each question lists every class as a choice, in
the order of the class constant, or with ``num_options`` the answer and seeded distractors
(``common.pick_options``: the journal's "three incorrect options along with the correct
answer" is ``num_options=4``); ``suite.prepare_items`` shuffles them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from balsa_core.evaluation.loaders.common import (
    BenchmarkFileError,
    PathArg,
    Paths,
    audio_path,
    find_column,
    finish_items,
    line_of,
    pick_options,
    read_csv_strings,
    seeded_sample,
    single_path,
)
from balsa_core.evaluation.loaders.released import AUDIO_SUFFIXES


def _choice_item(
    benchmark: str,
    audio_dir: Path,
    name: str,
    question: str,
    choices: Sequence[str],
    answer: str,
    num_options: int | None,
    seed: int,
    **extra_columns: str,
) -> dict:
    """The multiple-choice item about the clip ``audio_dir / name``: every choice, or ``num_options``
    of them seeded by its item id."""
    item_id = f"{benchmark}|{name}"
    return {
        "item_id": item_id,
        "benchmark": benchmark,
        "subset": "",
        "audio_path": audio_path(audio_dir, name),
        "question": question,
        "choices": pick_options(choices, answer, num_options, seed, item_id),
        "answer": answer,
        "question_type": "multiple_choice",
        **extra_columns,
    }


# --------------------------------------------------------------------------- Nonspeech7k

NONSPEECH7K_CLASSES = ("breath", "cough", "crying", "laugh", "screaming", "sneeze", "yawn")
# Spellings seen for the same classes (the paper's "cry"/"scream", and a "yawm" typo in some copies).
NONSPEECH7K_ALIASES = {
    "breathing": "breath",
    "coughing": "cough",
    "cry": "crying",
    "laughing": "laugh",
    "laughter": "laugh",
    "scream": "screaming",
    "sneezing": "sneeze",
    "yawning": "yawn",
    "yawm": "yawn",
}
NONSPEECH7K_FILE_COLUMNS = ("Filename", "File name", "file_name", "fname", "file")
NONSPEECH7K_CLASS_COLUMNS = ("Classname", "Class name", "class", "label", "category")
NONSPEECH7K_QUESTION = "What is the sound?"


def load_nonspeech7k(
    paths: Paths,
    audio_dir: PathArg,
    *,
    num_options: int | None = None,
    seed: int = 0,
    question: str = NONSPEECH7K_QUESTION,
) -> pd.DataFrame:
    """Nonspeech7k test clips as multiple-choice questions over the 7 human non-speech classes.

    The Zenodo release (record 6967442) has ``train/`` and ``test/`` audio folders and one
    metadata CSV per split (``metadata of test set.csv``: file name, file id, duration, class id,
    class name, ...). The file-name and class-name columns are found by name, ignoring case,
    spaces and underscores (``Filename``/``Classname`` or the alternatives in
    ``NONSPEECH7K_FILE_COLUMNS``/``NONSPEECH7K_CLASS_COLUMNS``); class names are lower-cased and
    mapped through ``NONSPEECH7K_ALIASES``; any other class is an error. The papers use all 725
    test clips. Choices: ``NONSPEECH7K_CLASSES``, or ``num_options`` of them drawn with ``seed``
    (see the module docstring). Audio: ``audio_dir / <file name>`` (the split's audio folder).
    """
    path = single_path(paths, "nonspeech7k")
    audio_dir = Path(audio_dir)
    table = read_csv_strings(path, ())
    file_column = find_column(path, table.columns, NONSPEECH7K_FILE_COLUMNS, "file name")
    class_column = find_column(path, table.columns, NONSPEECH7K_CLASS_COLUMNS, "class name")
    rows: list[dict] = []
    for index, record in enumerate(table.to_dict("records")):
        where = line_of(path, index)
        file_name = record[file_column].strip()
        if not file_name:
            raise BenchmarkFileError(f"{where}: empty {file_column!r}")
        label = record[class_column].strip().lower()
        label = NONSPEECH7K_ALIASES.get(label, label)
        if label not in NONSPEECH7K_CLASSES:
            raise BenchmarkFileError(
                f"{where}: {class_column!r} {record[class_column]!r} is not one of {list(NONSPEECH7K_CLASSES)}"
            )
        rows.append(
            _choice_item("nonspeech7k", audio_dir, file_name, question, NONSPEECH7K_CLASSES, label, num_options, seed)
        )
    return finish_items(rows, "nonspeech7k", str(path))


# --------------------------------------------------------------------------- CochlScene

# Folder names of the release, and the spaced names the questions use (as in the BALSa journal).
COCHLSCENE_SCENES: dict[str, str] = {
    "Bus": "Bus",
    "Cafe": "Cafe",
    "Car": "Car",
    "CrowdedIndoor": "Crowded Indoor",
    "Elevator": "Elevator",
    "Kitchen": "Kitchen",
    "Park": "Park",
    "ResidentialArea": "Residential Area",
    "Restaurant": "Restaurant",
    "Restroom": "Restroom",
    "Street": "Street",
    "Subway": "Subway",
    "SubwayStation": "Subway Station",
}
COCHLSCENE_QUESTION = "Which acoustic scene does this audio clip belong to?"


def load_cochlscene(
    paths: Paths,
    audio_dir: PathArg | None = None,
    *,
    clips_per_scene: int | None = 100,
    num_options: int | None = None,
    seed: int = 0,
    question: str = COCHLSCENE_QUESTION,
) -> pd.DataFrame:
    """CochlScene clips of one split as multiple-choice questions over its 13 acoustic scenes.

    The release (Zenodo record 7080122) has no label file: the layout is
    ``CochlScene/{Train,Val,Test}/<Scene>/<clip>.wav`` with the scene folders of
    ``COCHLSCENE_SCENES``. ``paths`` is the split folder to scan (``CochlScene/Test`` for the
    papers); a scene folder outside ``COCHLSCENE_SCENES`` or a missing one is an error. From each
    scene, ``clips_per_scene`` clips (all when None or when the scene has fewer) are drawn
    without replacement, seeded by (seed, scene) and kept in file-name order: 13 x 100 = 1,300
    items in the papers. Choices: the spaced scene names, or ``num_options`` of them drawn with
    ``seed`` (see the module docstring). Extra column: ``scene`` (the folder name). Audio:
    ``audio_dir / <Scene> / <clip>``, ``audio_dir`` defaulting to the split folder.
    """
    split_dir = single_path(paths, "cochlscene")
    audio_dir = split_dir if audio_dir is None else Path(audio_dir)
    if not split_dir.is_dir():
        raise BenchmarkFileError(f"{split_dir}: CochlScene split folder not found")
    folders = sorted(entry.name for entry in split_dir.iterdir() if entry.is_dir())
    unknown = [name for name in folders if name not in COCHLSCENE_SCENES]
    missing = [name for name in COCHLSCENE_SCENES if name not in folders]
    if unknown or missing:
        raise BenchmarkFileError(
            f"{split_dir}: scene folders do not match CochlScene's 13 scenes: unknown {unknown}, missing {missing}"
        )
    choices = list(COCHLSCENE_SCENES.values())
    rows: list[dict] = []
    for scene, spaced in COCHLSCENE_SCENES.items():
        clips = sorted(
            entry.name
            for entry in (split_dir / scene).iterdir()
            if entry.is_file() and entry.name.lower().endswith(AUDIO_SUFFIXES)
        )
        if not clips:
            raise BenchmarkFileError(f"{split_dir / scene}: no audio clips in scene folder")
        for clip in seeded_sample(clips, clips_per_scene, seed, scene):
            name = f"{scene}/{clip}"
            rows.append(
                _choice_item("cochlscene", audio_dir, name, question, choices, spaced, num_options, seed, scene=scene)
            )
    return finish_items(rows, "cochlscene", str(split_dir), ["scene"])


# --------------------------------------------------------------------------- EDANSA-2019

# Label column -> event name, for the 7 events the BALSa journal evaluates (fly, bird, woof,
# wind, rain, aircraft, machine). Columns are the short tags of the EDANSA label sheet.
EDANSA_EVENTS: dict[str, str] = {
    "Fly": "fly",
    "Bird": "bird",
    "Woof": "woof",
    "Wind": "wind",
    "Rain": "rain",
    "Airc": "aircraft",
    "Mach": "machine",
}
EDANSA_CLIP_COLUMNS = ("Clip Path", "clip_path")
EDANSA_YES_NO_QUESTION = "Is there {event} in the audio?"
EDANSA_CHOICE_QUESTION = "Select the most appropriate category for the given sound."
_UNLABELLED = ("", "n/a", "na", "nan", "none")


def load_edansa(
    paths: Paths,
    audio_dir: PathArg,
    *,
    events: Mapping[str, str] | Sequence[str] = EDANSA_EVENTS,
    mode: str = "yes_no",
    clip_column: str | None = None,
    split: str | None = None,
    split_column: str = "set",
    clips_per_event: int | None = 200,
    num_options: int | None = None,
    seed: int = 0,
    yes_no_question: str = EDANSA_YES_NO_QUESTION,
    choice_question: str = EDANSA_CHOICE_QUESTION,
) -> pd.DataFrame:
    """EDANSA-2019 clips as questions about the given events.

    The label sheet (``EDANSA-2019`` release, DCASE 2022) is a CSV with a clip path column
    (``Clip Path``, or ``clip_column``) and one column per tag holding 1/0 (``1.0``/``0.0``
    accepted; blank or ``N/A`` = unlabelled). ``events`` maps label columns to the names asked
    about (a list of columns uses the lower-cased column names); the default is the papers' 7
    events, ``EDANSA_EVENTS``. ``split`` keeps only rows whose ``split_column`` equals it.

    ``mode="yes_no"`` (default): one ``yes_no`` item per (clip, event) with a 0/1 label,
    "Is there <event> in the audio?"; ``subset`` is the event name.
    ``mode="multiple_choice"``: the BALSa journal's setup, which counts 1,077 items (fly 62, woof
    15, 200 each for the other five): for each event, the clips labelled with it and with none of
    the other events (so the answer is unambiguous), ``clips_per_event`` of them (all when None or
    fewer) drawn seeded by (seed, event) in file order; choices are the event names in ``events``
    order, or ``num_options`` of them drawn with ``seed`` (see the module docstring). Extra
    column: ``event``. Audio: ``audio_dir / <clip path>``.
    """
    if mode not in ("yes_no", "multiple_choice"):
        raise ValueError(f"edansa: mode must be 'yes_no' or 'multiple_choice', got {mode!r}")
    events = dict(events) if isinstance(events, Mapping) else {column: column.lower() for column in events}
    if len(events) < (2 if mode == "multiple_choice" else 1):
        raise ValueError(f"edansa: too few events for mode {mode!r}: {events}")
    if num_options is not None and mode != "multiple_choice":
        raise ValueError(f"edansa: num_options applies to mode 'multiple_choice', not {mode!r}")
    path = single_path(paths, "edansa")
    audio_dir = Path(audio_dir)
    table = read_csv_strings(path, () if clip_column is None else (clip_column,))
    clip_column = clip_column or find_column(path, table.columns, EDANSA_CLIP_COLUMNS, "clip path")
    label_columns = {column: find_column(path, table.columns, (column,), f"label {column!r}") for column in events}
    if split is not None:
        if split_column not in table.columns:
            raise BenchmarkFileError(f"{path}: missing column {split_column!r} to select split {split!r}")
        table = table[table[split_column].str.strip() == split]
    clips: list[tuple[str, dict[str, bool | None]]] = []
    for index, record in zip(table.index, table.to_dict("records")):
        where = line_of(path, int(index))
        clip = record[clip_column].strip()
        if not clip:
            raise BenchmarkFileError(f"{where}: empty {clip_column!r}")
        labels = {event: _flag(where, label_columns[event], record[label_columns[event]]) for event in events}
        clips.append((clip, labels))
    if mode == "yes_no":
        rows = [
            {
                "item_id": f"edansa|{clip}|{events[event]}",
                "benchmark": "edansa",
                "subset": events[event],
                "audio_path": audio_path(audio_dir, clip),
                "question": yes_no_question.format(event=events[event]),
                "choices": [],
                "answer": "yes" if label else "no",
                "question_type": "yes_no",
                "event": events[event],
            }
            for clip, labels in clips
            for event, label in labels.items()
            if label is not None
        ]
    else:
        rows = _edansa_choice_rows(clips, events, audio_dir, clips_per_event, num_options, seed, choice_question)
    return finish_items(rows, "edansa", str(path), ["event"])


def _edansa_choice_rows(
    clips: list[tuple[str, dict[str, bool | None]]],
    events: dict[str, str],
    audio_dir: Path,
    clips_per_event: int | None,
    num_options: int | None,
    seed: int,
    question: str,
) -> list[dict]:
    choices = list(events.values())
    rows: list[dict] = []
    for event, name in events.items():
        only_this = [
            clip
            for clip, labels in clips
            if labels[event] and not any(labels[other] for other in events if other != event)
        ]
        for clip in seeded_sample(only_this, clips_per_event, seed, name):
            rows.append(_choice_item("edansa", audio_dir, clip, question, choices, name, num_options, seed, event=name))
    return rows


def _flag(where: str, column: str, value: str) -> bool | None:
    text = value.strip().lower()
    if text in _UNLABELLED:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number not in (0.0, 1.0):
        raise BenchmarkFileError(f"{where}: {column!r} must be 0 or 1, got {value!r}")
    return number == 1.0
