"""Speech-IFEval (Lu, Kuan and Lee, Interspeech 2025) as released: instructions to follow about a
speech clip, for the instruction-following rate (IFrate) and the forgetting rate.

``data/eval_data/*.jsonl`` hold one JSON object a line: ``audio_filepath`` (relative to the
release's ``audios/`` folder), ``textual_audio`` (the transcript with timestamps and speaker
attributes, which the text-only backbone reads in place of the audio), ``instruction``,
``dataset`` and ``metric``; rule-checked lines add IFEval's ``instruction_id_list`` and
``kwargs`` (one dict per id). By ``metric``:

| metric | file | part | scored by |
|---|---|---|---|
| accuracy, wer | closed_ended_questions.jsonl | closed | its IFEval rules |
| open | creative_writing.jsonl | open | its IFEval rules |
| cot | chain-of-thought.jsonl | open | an LLM judge (did the reply reason step by step?) |

``closed_ended_questions-woprompt.jsonl`` (the task-level baseline, no rules) is not an
instruction-following file and is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from balsa_core.evaluation.ifeval_rules import rule_problem
from balsa_core.evaluation.loaders.common import (
    BenchmarkFileError,
    PathArg,
    Paths,
    audio_path,
    finish_items,
    path_list,
    require_file,
)

SPEECH_IFEVAL_KEYS = ("audio_filepath", "textual_audio", "instruction", "dataset", "metric")
# metric -> (subset, part of the IFrate)
SPEECH_IFEVAL_METRICS: dict[str, tuple[str, str]] = {
    "accuracy": ("closed_ended", "closed"),
    "wer": ("closed_ended", "closed"),
    "open": ("creative_writing", "open"),
    "cot": ("chain_of_thought", "open"),
}
JUDGED_METRIC = "cot"
JUDGED_ANSWER = "reasons step by step (LLM judge)"
EXTRA_COLUMNS = ("part", "rules", "judged", "description", "dataset", "label")


def load_speech_ifeval(paths: Paths, audio_dir: PathArg) -> pd.DataFrame:
    """Speech-IFEval lines as ``instruction`` items (the question is the instruction as released).

    ``subset`` is closed_ended, creative_writing or chain_of_thought (see the module table).
    Extra columns: ``part`` (closed/open), ``rules`` (JSON ``{"instruction_id_list", "kwargs"}``;
    empty for judged lines), ``judged`` (the reply goes to the LLM judge), ``description`` (the
    ``textual_audio``), ``dataset``, ``label`` (the task's answer, not scored here).
    Audio: ``audio_dir / audio_filepath``.
    """
    audio_dir = Path(audio_dir)
    listed = path_list(paths, "speech_ifeval")
    rows = [row for path in listed for row in _rows(path, audio_dir)]
    return finish_items(rows, "speech_ifeval", ", ".join(str(path) for path in listed), EXTRA_COLUMNS)


def _rows(path: Path, audio_dir: Path) -> list[dict[str, Any]]:
    require_file(path)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            entry = json.loads(line)
        except ValueError as error:
            raise BenchmarkFileError(f"{where}: not a JSON object ({error})") from error
        if not isinstance(entry, dict):
            raise BenchmarkFileError(f"{where}: expected a JSON object, got a {type(entry).__name__}")
        missing = [key for key in SPEECH_IFEVAL_KEYS if key not in entry]
        if missing:
            raise BenchmarkFileError(f"{where}: missing key(s) {missing}")
        metric = entry["metric"]
        if metric not in SPEECH_IFEVAL_METRICS:
            raise BenchmarkFileError(f"{where}: 'metric' {metric!r} is not one of {list(SPEECH_IFEVAL_METRICS)}")
        subset, part = SPEECH_IFEVAL_METRICS[metric]
        judged = metric == JUDGED_METRIC
        rules = "" if judged else _rules(where, entry)
        # Lines carry an id (closed-ended), a key (creative writing) or neither (chain-of-thought).
        line_id = entry.get("id", entry.get("key", number))
        rows.append(
            {
                "item_id": f"speech_ifeval|{path.stem}|{line_id}",
                "benchmark": "speech_ifeval",
                "subset": subset,
                "audio_path": audio_path(audio_dir, str(entry["audio_filepath"])),
                "question": str(entry["instruction"]),
                "choices": [],
                "answer": JUDGED_ANSWER if judged else ", ".join(entry["instruction_id_list"]),
                "question_type": "instruction",
                "part": part,
                "rules": rules,
                "judged": judged,
                "description": str(entry["textual_audio"]),
                "dataset": str(entry["dataset"]),
                "label": "" if entry.get("label") is None else str(entry["label"]),
            }
        )
    return rows


def _rules(where: str, entry: dict[str, Any]) -> str:
    ids, kwargs = entry.get("instruction_id_list"), entry.get("kwargs")
    if not isinstance(ids, list) or not ids or not all(isinstance(rule, str) for rule in ids):
        raise BenchmarkFileError(
            f"{where}: 'instruction_id_list' must be a non-empty list of ids for metric {entry['metric']!r} "
            "(the -woprompt file is the task-level baseline, not an instruction-following file)"
        )
    if not isinstance(kwargs, list) or len(kwargs) != len(ids) or not all(isinstance(k, dict) for k in kwargs):
        raise BenchmarkFileError(f"{where}: 'kwargs' must be a list of {len(ids)} object(s), one per instruction id")
    for rule, arguments in zip(ids, kwargs):
        problem = rule_problem(rule, arguments)
        if problem:
            raise BenchmarkFileError(f"{where}: {problem}")
    return json.dumps({"instruction_id_list": ids, "kwargs": kwargs}, sort_keys=True)
