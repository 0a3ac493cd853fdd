"""Every target set of the papers, as the requests that produce it.

A target set pairs a *source* of targets with the instruction the adapter is trained under:

* ``backbone``: the backbone LLM answers a generation prompt about one seed (positive,
  negative and combined targets; Equation 1), or about the two seeds of a pair (BALSa-MA's
  "explain the difference" and "caption both"; Equation 2);
* ``questions``: the backbone answers questions from a user-supplied file, each question
  serving as the generation prompt (BALSa-OpenAQA; Equation 3);
* ``question_answers``: the same draw of a question file's questions, each trained on the file's
  own answer to it instead of the backbone's (the papers' "Ours (OpenAQA)", OpenAQA's released
  question-answer pairs);
* ``ground_truth``: the rule-based template baseline: an instruction ("Describe the audio.")
  whose target is the seed itself, the human caption or the tag list. The papers "design several
  rule-based prompt templates" (LISTEN, Sec. 5.4): with ``templates`` each seed's samples take
  distinct ones, in a seeded order drawn per seed.

Requests are rows with a stable ``target_id`` (``<seed or pair id>|<set>|<sample>``) sorted by
that id, so the same inputs always give the same requests in the same order; the shards cut
from them are deterministic too.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from balsa_core.prompts import PromptTemplate

REQUEST_COLUMNS = [
    "target_id",
    "source_id",
    "clip_ids",
    "seed_ids",
    "corpus",
    "split",
    "target_set",
    "sample_index",
    "instruction",
    "prompt",  # the user turn the backbone sees; None for ground-truth targets
    "reference",  # the text a copied target is: the seed (ground truth) or the file's answer; else None
]
# Sources whose targets are copied from the data rather than written by a backend.
COPIED_SOURCES = ("ground_truth", "question_answers")
# Sources that draw their instructions from a question file.
QUESTION_SOURCES = ("questions", "question_answers")


@dataclass(frozen=True)
class TargetSet:
    name: str
    source: Literal["backbone", "ground_truth", "questions", "question_answers"] = "backbone"
    prompt: str | None = None  # the generation prompt, or the fixed instruction of ground truth
    questions: str | None = None  # path of the question file of a ``questions`` or ``question_answers`` set
    audios: int = 1  # 2: generated on pairs of clips
    samples_per_seed: int = 1
    names_absent_sounds: bool = False  # its targets list absent sounds: check them for leaks
    backend: str | None = None  # a generation.backends entry; None: the default backend
    templates: list[str] | None = None  # the rule-based templates of a ground-truth set, in place of prompt

    @property
    def uses_backend(self) -> bool:
        return self.source not in COPIED_SOURCES

    def instructions(self, seed_ids: Sequence[str], sample_index: Sequence[int], seed: int) -> list[str]:
        """The instruction of each (seed, sample): the prompt, or with ``templates`` the
        ``sample_index``-th of the seed's own seeded order of them (distinct while they last)."""
        if self.templates is None:
            return [self.prompt] * len(seed_ids)
        orders: dict[str, list[str]] = {}
        for seed_id in seed_ids:
            if seed_id not in orders:
                orders[seed_id] = random.Random(f"{seed}|{seed_id}").sample(self.templates, len(self.templates))
        return [orders[seed_id][index % len(self.templates)] for seed_id, index in zip(seed_ids, sample_index)]


def requests_for(
    target_set: TargetSet,
    metadata: pd.DataFrame,
    template: PromptTemplate,
    splits: Sequence[str],
    questions: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The requests of one target set: ``metadata`` holds the seeds (of one corpus, or of all
    corpora for pair sets); ``pairs`` is needed for two-audio sets, ``questions`` for
    question sets (with an ``answer`` column for ``question_answers`` sets)."""
    if target_set.audios == 2:
        if pairs is None:
            raise ValueError(f"target set {target_set.name!r} is generated on pairs; no pairs table given")
        requests = _pair_requests(target_set, pairs, metadata, template)
    else:
        seeds = metadata[metadata["split"].isin(splits)]
        if target_set.source in QUESTION_SOURCES:
            if questions is None:
                raise ValueError(f"target set {target_set.name!r} asks questions; no question file given")
            requests = _question_requests(target_set, seeds, questions, template, seed)
        else:
            requests = _seed_requests(target_set, seeds, template, seed)
    return requests.sort_values("target_id", ignore_index=True)[REQUEST_COLUMNS]


def _seed_requests(target_set: TargetSet, seeds: pd.DataFrame, template: PromptTemplate, seed: int) -> pd.DataFrame:
    repeated = seeds.loc[seeds.index.repeat(target_set.samples_per_seed)].reset_index(drop=True)
    sample_index = repeated.groupby("seed_id").cumcount()
    ground_truth = target_set.source == "ground_truth"
    instructions = target_set.instructions(repeated["seed_id"].tolist(), sample_index.tolist(), seed)
    return _frame(
        target_set,
        source_ids=repeated["seed_id"],
        clip_ids=[[clip] for clip in repeated["clip_id"]],
        seed_ids=[[seed] for seed in repeated["seed_id"]],
        corpus=repeated["corpus"],
        split=repeated["split"],
        sample_index=sample_index,
        instruction=instructions,
        prompt=[
            None if ground_truth else template.user_message([text], instruction)
            for text, instruction in zip(repeated["seed_text"], instructions)
        ],
        reference=list(repeated["seed_text"]) if ground_truth else [None] * len(repeated),
    )


def _question_requests(
    target_set: TargetSet, seeds: pd.DataFrame, questions: pd.DataFrame, template: PromptTemplate, seed: int
) -> pd.DataFrame:
    """Each seed gets up to ``samples_per_seed`` distinct questions: those asked about its clip
    when the file names clips, otherwise drawn from the file's general questions. The draw is
    seeded per seed id, so it does not depend on which other seeds are present. A
    ``question_answers`` set draws the same questions and copies each one's answer as its target."""
    copies_answers = target_set.source == "question_answers"
    if copies_answers and "answer" not in questions.columns:
        raise ValueError(f"target set {target_set.name!r} trains on the question file's answers; it gave none")
    pairs = list(zip(questions["question"], questions["answer"] if copies_answers else [None] * len(questions)))
    general = [pair for pair, clip in zip(pairs, questions["clip_id"]) if pd.isna(clip)]
    by_clip: dict[str, list[tuple[str, str | None]]] = {}
    for pair, clip in zip(pairs, questions["clip_id"]):
        if not pd.isna(clip):
            by_clip.setdefault(clip, []).append(pair)
    rows = []
    for record in seeds.itertuples(index=False):
        candidates = by_clip.get(record.clip_id, general)
        chosen = random.Random(f"{seed}|{record.seed_id}").sample(
            candidates, min(target_set.samples_per_seed, len(candidates))
        )
        rows.extend((record, index, question, answer) for index, (question, answer) in enumerate(chosen))
    return _frame(
        target_set,
        source_ids=[record.seed_id for record, *_ in rows],
        clip_ids=[[record.clip_id] for record, *_ in rows],
        seed_ids=[[record.seed_id] for record, *_ in rows],
        corpus=[record.corpus for record, *_ in rows],
        split=[record.split for record, *_ in rows],
        sample_index=[index for _, index, *_ in rows],
        instruction=[question for _, _, question, _ in rows],
        prompt=[
            None if copies_answers else template.user_message([record.seed_text], question)
            for record, _, question, _ in rows
        ],
        reference=[answer for *_, answer in rows],
    )


def _pair_requests(
    target_set: TargetSet, pairs: pd.DataFrame, metadata: pd.DataFrame, template: PromptTemplate
) -> pd.DataFrame:
    seed_text = metadata.set_index("seed_id")["seed_text"]
    missing = sorted(set(pairs["first_seed_id"]).union(pairs["second_seed_id"]) - set(seed_text.index))
    if missing:
        raise ValueError(f"pairs name seeds missing from the metadata, e.g. {missing[:3]}")
    repeated = pairs.loc[pairs.index.repeat(target_set.samples_per_seed)].reset_index(drop=True)
    first, second = (
        seed_text.loc[repeated["first_seed_id"]].tolist(),
        seed_text.loc[repeated["second_seed_id"]].tolist(),
    )
    same_corpus = repeated["first_corpus"] == repeated["second_corpus"]
    return _frame(
        target_set,
        source_ids=repeated["pair_id"],
        clip_ids=[list(ids) for ids in zip(repeated["first_clip_id"], repeated["second_clip_id"])],
        seed_ids=[list(ids) for ids in zip(repeated["first_seed_id"], repeated["second_seed_id"])],
        corpus=repeated["first_corpus"].where(same_corpus, repeated["first_corpus"] + "+" + repeated["second_corpus"]),
        split=["train"] * len(repeated),
        sample_index=repeated.groupby("pair_id").cumcount(),
        instruction=[target_set.prompt] * len(repeated),
        prompt=[template.user_message([a, b], target_set.prompt) for a, b in zip(first, second)],
        reference=[None] * len(repeated),
    )


def _frame(
    target_set: TargetSet, source_ids: Sequence[str], sample_index: Sequence[int], **columns: Any
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"source_id": list(source_ids), "sample_index": list(sample_index), **{k: list(v) for k, v in columns.items()}}
    )
    frame["target_set"] = target_set.name
    # Row by row: an empty frame's columns are float, which cannot be concatenated with text.
    frame["target_id"] = [
        f"{source}|{target_set.name}|{index}" for source, index in zip(frame["source_id"], frame["sample_index"])
    ]
    return frame


def read_questions(path: Path | str, metadata: pd.DataFrame | None = None, with_answers: bool = False) -> pd.DataFrame:
    """The questions of a question file, as ``question`` and ``clip_id`` (None: ask of any clip),
    and with ``with_answers`` each one's ``answer``.

    CSV/TSV with a ``question`` column, or JSON / JSON Lines objects with ``question`` (or
    OpenAQA's ``instruction``). A question names its clip by ``clip_id``, or by OpenAQA's
    ``audio_id`` (a path), matched to a clip by its audio file's name; questions about clips
    outside ``metadata`` are dropped. Answers are an ``answer`` column (or OpenAQA's ``output``);
    every question needs one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"question file not found: {path}")
    records = _question_records(path)
    text_column = next((c for c in ("question", "instruction") if c in records.columns), None)
    if text_column is None:
        raise ValueError(f"{path}: no 'question' (or 'instruction') column; found {list(records.columns)}")
    questions = pd.DataFrame({"question": records[text_column].astype("string").str.strip()})
    blank = questions.index[questions["question"].fillna("") == ""]
    if len(blank):
        raise ValueError(f"{path}: empty question in row {int(blank[0]) + 1}")
    questions["clip_id"] = _question_clips(records, metadata)
    if with_answers:
        questions["answer"] = _answers(path, records)
    if metadata is not None:
        named = questions["clip_id"].notna()
        questions = questions[~named | questions["clip_id"].isin(set(metadata["clip_id"]))]
    questions = questions.reset_index(drop=True).astype(object)
    return questions.where(questions.notna(), None)


def _answers(path: Path, records: pd.DataFrame) -> pd.Series:
    column = next((c for c in ("answer", "output") if c in records.columns), None)
    if column is None:
        raise ValueError(f"{path}: no 'answer' (or 'output') column; found {list(records.columns)}")
    answers = records[column].astype("string").str.strip()
    blank = answers.index[answers.fillna("") == ""]
    if len(blank):
        raise ValueError(f"{path}: empty answer in row {int(blank[0]) + 1}")
    return answers


def _question_records(path: Path) -> pd.DataFrame:
    if path.suffix in (".csv", ".tsv"):
        return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", dtype=str, keep_default_na=False)
    if path.suffix == ".jsonl":
        return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines() if line.strip()])
    if path.suffix == ".json":
        return pd.DataFrame(json.loads(path.read_text()))
    raise ValueError(f"{path}: question files are .csv, .tsv, .json or .jsonl")


def _question_clips(records: pd.DataFrame, metadata: pd.DataFrame | None) -> pd.Series:
    """None for a question about any clip; otherwise the clip it names ("" when its audio file
    matches no clip, so that it is dropped rather than asked of every clip)."""
    if "clip_id" in records.columns:
        return records["clip_id"].fillna("").map(lambda clip: clip or None)
    if "audio_id" in records.columns and metadata is not None:
        clip_by_stem = dict(zip(metadata["audio_path"].map(lambda p: Path(p).stem), metadata["clip_id"]))
        return (
            records["audio_id"].fillna("").map(lambda audio: clip_by_stem.get(Path(audio).stem, "") if audio else None)
        )
    return pd.Series([None] * len(records), index=records.index, dtype=object)
