"""rules/evaluate.smk: every evaluation of Tables IV and V (and grounding's items and answers):
its items, the features of its clips, each model's answers, then the tables.

Items come from an evaluation's released files (through its loader), or are built here from
the held-out (test-split) clips of the training corpora: the POPE-style hallucination items
when no released files are configured, the instruction-following items and the grounding items
(a description prompt, scored against the clip's tags and a control clip's). Every item gets a
``clip_id`` (its feature-cache key), and when the training metadata knows the clip a
``description`` of it for the text-only backbone and the ``corpus_clip_id`` its features are
already cached under; and its prompt (see ``suite.prepare_items``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from balsa_core.config import TEXT_CEILING
from balsa_core.evaluation.grounding import build_grounding_items, grounding_metrics, score_grounding
from balsa_core.evaluation.hallucination import build_hallucination_items
from balsa_core.evaluation.instruction_following import build_if_items
from balsa_core.evaluation.judge import judge_verdicts, needs_judge
from balsa_core.evaluation.loaders import load_benchmark
from balsa_core.evaluation.loaders.common import ITEM_COLUMNS
from balsa_core.evaluation.registry import EVALUATIONS, FREE_FORM, GROUNDING, NO_JUDGE, TABLE4, TABLE5
from balsa_core.evaluation.suite import (
    INSTRUCTION,
    AnswerInstructions,
    evaluation_metrics,
    prepare_items,
    score_replies,
)
from balsa_core.evaluation.synonym_hypernym import build_synonym_hypernym_items
from balsa_core.evaluation.tables import cell_intervals, details_table, results_table
from balsa_core.evaluation.uncertainty import comparisons_table, evaluation_validity, scope_statistics
from balsa_core.generation import make_backend
from balsa_core.generation.quality import sound_terms
from balsa_core.metadata import read_metadata
from balsa_core.ontology import load_ontology
from balsa_core.readers.audiocaps import find_audio
from balsa_core.readers.audioset import read_segments
from balsa_core.reports import plot_results_table
from balsa_core.settings import Evaluation as EvaluationSettings
from balsa_core.settings import (
    Grounding,
    Hallucination,
    InstructionFollowing,
    PipelineConfig,
    Prompting,
    SynonymHypernymBenchmark,
)
from balsa_core.stages.features import cache_clip_features

log = logging.getLogger(__name__)

CLIP_COLUMNS = ["clip_id", "offset_s", "duration_s", "description", "corpus_clip_id"]
# Grounding's description prompt is asked bare (no answer instruction, no options to shuffle):
# its items do not depend on evaluation.prompting, which its rule does not pass.
BARE_PROMPTING = Prompting(yes_no_instruction="", choice_instruction="", open_instruction="", shuffle_seed=0)
# Replies of a text model, an adapter or a baseline to the items it could be asked.
Answerer = Callable[[pd.DataFrame, int], list[str]]
# Why an audio model skips an item: its clip has no cached features, so no adapter hears it either.
NO_AUDIO = "audio missing or unreadable"


def evaluation_clips(config: PipelineConfig, metadata: Sequence[Path], truth: Path | None, clips: Path) -> None:
    """Write ``known_clips`` once for the items of every evaluation; ``truth`` is the demo's
    events.csv, whose tags the demo's captioned clips lack."""
    known = known_clips(metadata, truth)
    clips.parent.mkdir(parents=True, exist_ok=True)
    known.to_parquet(clips, index=False)
    log.info("%d clips of the training corpora, %d of them held out", len(known), int((known["split"] == "test").sum()))


def evaluation_items(config: PipelineConfig, evaluation: str, clips: Path, questions: Path) -> None:
    """Write the prepared items of ``evaluation``: from its entry under ``evaluation.benchmarks``,
    or built from the training corpora's held-out ``clips`` (``evaluation_clips``)."""
    settings = config.evaluation
    known = read_evaluation_clips(clips)
    # None: no released files configured, the evaluation is built from held-out clips.
    benchmark = settings.benchmarks.get(evaluation)
    if evaluation == "instruction_following" and benchmark is None:
        following = settings.instruction_following
        built = instruction_items(held_out(known, following.max_clips), following)
    elif evaluation == "hallucination" and benchmark is None:
        hallucination = settings.hallucination
        built = generated_hallucination_items(held_out(known, hallucination.max_clips), known, hallucination)
    elif evaluation == "synonym_hypernym":
        built = synonym_hypernym_items(benchmark)
    elif evaluation == GROUNDING:
        built = grounding_items(known, settings.grounding)
    else:
        loader = EVALUATIONS[evaluation].loader
        built = load_benchmark(loader, benchmark.files, benchmark.audio_dir, **benchmark.options)
    if benchmark is not None and benchmark.max_items is not None:
        built = subsample(built, benchmark.max_items, benchmark.seed)
    prompting = BARE_PROMPTING if evaluation == GROUNDING else settings.prompting
    instructions = AnswerInstructions(
        yes_no=prompting.yes_no_instruction,
        multiple_choice=prompting.choice_instruction,
        open=prompting.open_instruction,
    )
    prepared = prepare_items(
        with_clip_columns(built, known).reset_index(drop=True), instructions, prompting.shuffle_seed
    )
    questions.parent.mkdir(parents=True, exist_ok=True)
    prepared.to_parquet(questions, index=False)
    described = int(prepared["description"].notna().sum())
    log.info(
        "%s: %d items on %d clips (%d described for the text-only backbone, %d already cached with a "
        "training corpus); types %s",
        evaluation,
        len(prepared),
        prepared["clip_id"].nunique(),
        described,
        int(prepared["corpus_clip_id"].notna().sum()),
        prepared["question_type"].value_counts().to_dict(),
    )


def evaluation_features(config: PipelineConfig, questions: Path, encoder: Path, index: Path) -> None:
    """Cache the features of the clips an evaluation asks about that no training corpus's cache
    holds (see ``evaluation_feature_key``); unreadable audio is reported and skipped."""
    asked = pd.read_parquet(questions)
    missing = asked[asked["corpus_clip_id"].isna()].drop_duplicates("clip_id")
    log.info(
        "%d clips are cached with their training corpus, %d to encode",
        asked.loc[asked["corpus_clip_id"].notna(), "corpus_clip_id"].nunique(),
        len(missing),
    )
    cache_clip_features(missing, encoder, config.features, index)


def evaluation_feature_key(items: pd.DataFrame) -> pd.Series:
    """Where each item's features are: its corpus's cache for a training-corpus clip, else the
    evaluation's own cache (the same settings make both)."""
    return items["corpus_clip_id"].where(items["corpus_clip_id"].notna(), items["clip_id"])


def evaluate_adapter(
    config: PipelineConfig,
    evaluation: str,
    variant: str,
    questions: Path,
    features: Path,
    corpus_features: Sequence[Path],
    adapter: Path,
    answers: Path,
    metrics: Path,
) -> None:
    """Ask every item of one evaluation to one variant's adapter (``adapter``: its weights) and
    score the replies. ``features`` is the evaluation's own cache (``evaluation_features``),
    ``corpus_features`` the training corpora's."""
    from balsa_core.audio_llm import AudioLLM
    from balsa_core.evaluation.answering import answer_with_audio
    from balsa_core.features import FeatureStore

    items = pd.read_parquet(questions)
    store = FeatureStore([*corpus_features, features])
    feature_keys = evaluation_feature_key(items)
    askable = feature_keys.map(store.__contains__).astype(bool)

    def answer(asked: pd.DataFrame, max_new_tokens: int) -> list[str]:
        audio_llm = AudioLLM.from_pretrained(adapter.parent, with_encoder=False)
        batch_size = config.evaluation.answering.batch_size
        return answer_with_audio(
            audio_llm, list(feature_keys[askable]), list(asked["prompt"]), store, batch_size, max_new_tokens
        )

    _answer_and_score(evaluation, variant, items, askable, NO_AUDIO, answer, config.evaluation, answers, metrics)


def evaluate_baseline(
    config: PipelineConfig,
    evaluation: str,
    baseline: str,
    questions: Path,
    features: Path,
    corpus_features: Sequence[Path],
    answers: Path,
    metrics: Path,
) -> None:
    """Ask every item of one evaluation to one baseline audio LLM behind its OpenAI-compatible
    endpoint (``evaluation.baselines``) and score the replies. It is asked the items the adapters
    are: those whose clip has cached features (``features``, ``corpus_features``)."""
    from balsa_core.evaluation.baselines import answer_with_endpoint
    from balsa_core.features import FeatureStore

    items = pd.read_parquet(questions)
    store = FeatureStore([*corpus_features, features])
    askable = evaluation_feature_key(items).map(store.__contains__).astype(bool)
    endpoint = config.evaluation.baselines[baseline]

    def answer(asked: pd.DataFrame, max_new_tokens: int) -> list[str]:
        return answer_with_endpoint(endpoint, asked, max_new_tokens)

    _answer_and_score(evaluation, baseline, items, askable, NO_AUDIO, answer, config.evaluation, answers, metrics)


def evaluate_text_ceiling(
    config: PipelineConfig, evaluation: str, questions: Path, llm: Path, answers: Path, metrics: Path
) -> None:
    """Ask every item of one evaluation to the backbone with each clip's description (its tags or
    caption) where the audio would be: the best an adapter standing in for that text could do."""
    from balsa_core.backbones import ModelManifest
    from balsa_core.evaluation.answering import answer_with_text

    items = pd.read_parquet(questions)
    answering = config.evaluation.answering

    def answer(asked: pd.DataFrame, max_new_tokens: int) -> list[str]:
        backend = make_backend(
            {"type": "transformers", "batch_size": answering.batch_size},
            ModelManifest.read(llm).path,
            config.prompts.system_message,
        )
        return answer_with_text(
            backend, config.prompts, list(asked["description"]), list(asked["prompt"]), max_new_tokens
        )

    askable = items["description"].notna()
    _answer_and_score(
        evaluation,
        TEXT_CEILING,
        items,
        askable,
        "no text description of the clip",
        answer,
        config.evaluation,
        answers,
        metrics,
    )


def _answer_and_score(
    evaluation: str,
    model: str,
    items: pd.DataFrame,
    askable: pd.Series,
    skip_reason: str,
    answer: Answerer,
    settings: EvaluationSettings,
    answers: Path,
    metrics: Path,
) -> None:
    """Ask ``model`` the ``askable`` items, skip the rest with ``skip_reason`` (and those only a
    judge can score when none is configured), score the replies and write the answer sheet and
    the metrics."""
    answering = settings.answering
    max_new_tokens = answering.instruction_max_new_tokens if evaluation in FREE_FORM else answering.max_new_tokens
    unjudged = askable & needs_judge(items) & (settings.judge is None)
    for clip in items.loc[~askable, "audio_path"].unique()[:20]:
        log.warning("%s: skipping the items of %s (%s)", evaluation, clip, skip_reason)
    skipped = {skip_reason: int((~askable).sum())}
    if unjudged.any():
        log.warning("%s: skipping %d items (%s)", evaluation, int(unjudged.sum()), NO_JUDGE)
        skipped[NO_JUDGE] = int(unjudged.sum())
    asked = items[askable & ~unjudged].reset_index(drop=True)
    replies = answer(asked, max_new_tokens) if len(asked) else []
    # Grounding scores descriptions by the tag words they name; the rest read back an answer.
    if evaluation == GROUNDING:
        scored, summarize = score_grounding(asked, replies), grounding_metrics
    else:
        verdicts = judge_verdicts(asked, replies, settings.judge)
        scored, summarize = score_replies(asked, replies, verdicts), evaluation_metrics
    summary = {
        "evaluation": evaluation,
        "model": model,
        "items": len(items),
        "answered": len(scored),
        "skipped": skipped,
        **summarize(scored),
    }
    answers.parent.mkdir(parents=True, exist_ok=True)
    scored.to_parquet(answers, index=False)
    metrics.write_text(json.dumps(summary, indent=2) + "\n")
    log.info("%s / %s: %s", evaluation, model, summary["overall"])


def evaluation_tables(
    config: PipelineConfig,
    metrics: Sequence[Path],
    answers: Sequence[Path],
    table4: Path,
    table4_plot: Path,
    table5: Path,
    table5_plot: Path,
    details: Path,
    comparisons: Path,
) -> None:
    """Tables IV and V (CSV and plot), the long-form details with intervals and chance levels,
    and the paired comparisons, from every evaluation job's ``metrics`` and ``answers`` (in the
    same order); the rows are the baselines, the variants and the text ceiling."""
    outputs = {
        TABLE4: table4,
        f"{TABLE4}_plot": table4_plot,
        TABLE5: table5,
        f"{TABLE5}_plot": table5_plot,
        "details": details,
        "comparisons": comparisons,
    }
    write_evaluation_tables(
        metrics, answers, config.evaluated_models, config.evaluation.unconfigured, config.text_model, outputs
    )


def held_out(clips: pd.DataFrame, max_clips: int | None = None) -> pd.DataFrame:
    """The tagged clips of the test split, the first ``max_clips`` of them if given."""
    test = clips[(clips["split"] == "test") & clips["tags"].map(bool)].reset_index(drop=True)
    return test if max_clips is None else test.iloc[:max_clips]


def read_evaluation_clips(path: Path) -> pd.DataFrame:
    """The table ``evaluation_clips`` wrote, with tags as lists again (Parquet gives arrays)."""
    clips = pd.read_parquet(path)
    return clips.assign(tags=clips["tags"].map(list))


def known_clips(metadata_paths: Sequence[Path], truth_csv: Path | None) -> pd.DataFrame:
    """Every clip of the training corpora with its split, window, tags and a text description
    (its tags, else its first caption), keyed by the normalised audio path as well.

    The demo's captioned clips carry no tags in the AudioCaps layout (as in the real corpus),
    so the generator's ground truth gives their tags.
    """
    frame = pd.concat([read_metadata(path) for path in metadata_paths], ignore_index=True)
    first = frame.drop_duplicates("clip_id").reset_index(drop=True)
    if truth_csv is not None:
        truth = pd.read_csv(truth_csv)
        by_path = {
            os.path.normpath(truth_csv.parent / rel): tags.split(";")
            for rel, tags in zip(truth["audio_path"], truth["tags"])
        }
        first["tags"] = [
            by_path.get(os.path.normpath(path), list(tags)) for path, tags in zip(first["audio_path"], first["tags"])
        ]
    first["tags"] = first["tags"].map(list)
    first["description"] = [", ".join(tags) if tags else text for tags, text in zip(first["tags"], first["seed_text"])]
    first["path_key"] = first["audio_path"].map(os.path.normpath)
    return first[["clip_id", "split", "audio_path", "path_key", "offset_s", "duration_s", "tags", "description"]]


def generated_hallucination_items(test: pd.DataFrame, clips: pd.DataFrame, settings: Hallucination) -> pd.DataFrame:
    """POPE-style yes/no items from held-out tagged clips, in the item schema."""
    vocabulary = sorted({tag for tags in clips["tags"] for tag in tags})
    probes = build_hallucination_items(
        test[["clip_id", "audio_path", "tags"]],
        vocabulary,
        settings.negatives_per_clip,
        settings.seed,
        sampling=settings.sampling,
        corpus_tags=list(clips["tags"]),
    )
    return pd.DataFrame(
        {
            "item_id": "hallucination|" + probes["item_id"].astype(str),
            "benchmark": "hallucination",
            "subset": settings.sampling,
            "audio_path": probes["audio_path"],
            "question": probes["question"],
            "choices": [[] for _ in range(len(probes))],
            "answer": probes["label"],
            "question_type": "yes_no",
            "clip_id": probes["clip_id"],
            "object": probes["object"],
        }
    )


def instruction_items(test: pd.DataFrame, settings: InstructionFollowing) -> pd.DataFrame:
    """Each held-out clip with a base prompt (in turn) and rule-checkable format constraints."""
    base_prompts = settings.base_prompts
    prompts = [base_prompts[i % len(base_prompts)] for i in range(len(test))]
    constrained = build_if_items(prompts, settings.kinds, settings.per_prompt, settings.seed)
    # build_if_items gives each prompt's per_prompt items in a row, in prompt order.
    clip_of = np.repeat(np.arange(len(test)), settings.per_prompt)
    return pd.DataFrame(
        {
            "item_id": "instruction_following|" + constrained["item_id"],
            "benchmark": "instruction_following",
            "subset": constrained["constraint_kind"],
            "audio_path": test["audio_path"].to_numpy()[clip_of],
            "question": constrained["prompt"],
            "choices": [[] for _ in range(len(constrained))],
            "answer": constrained["constraint"],
            "question_type": INSTRUCTION,
            "clip_id": test["clip_id"].to_numpy()[clip_of],
            "constraint_kind": constrained["constraint_kind"],
            "constraint": constrained["constraint"],
        }
    )


def grounding_items(clips: pd.DataFrame, settings: Grounding) -> pd.DataFrame:
    """The description prompt on held-out clips whose tags name a sound, at most ``max_clips`` of
    them drawn with the seed (across corpora, not the first corpus's), each with a control clip;
    precision is over the tags of every clip of the corpora."""
    described = clips[clips["tags"].map(lambda tags: bool(sound_terms(tags)))]
    test = held_out(described)
    log.info(
        "grounding: %d held-out tagged clips, %d of them with a tag that names a sound",
        len(held_out(clips)),
        len(test),
    )
    if settings.max_clips is not None:
        test = subsample(test, settings.max_clips, settings.seed).reset_index(drop=True)
    if len(test) < 2:
        raise ValueError(
            f"evaluation.grounding: {len(test)} held-out clip(s) with tags; the control needs at least two"
        )
    vocabulary = [tag for tags in clips["tags"] for tag in tags]
    return build_grounding_items(test, vocabulary, settings.prompt, settings.seed)


def synonym_hypernym_items(benchmark: SynonymHypernymBenchmark) -> pd.DataFrame:
    """Yes/no synonym and hypernym items on AudioCaps clips labelled through AudioSet."""
    clips = audiocaps_clips_with_labels(Path(benchmark.captions), Path(benchmark.labels), Path(benchmark.audio_dir))
    synonyms = json.loads(Path(benchmark.synonyms).read_text()) if benchmark.synonyms else None
    return build_synonym_hypernym_items(
        clips, load_ontology(benchmark.ontology), synonyms, benchmark.negatives_per_clip, benchmark.seed
    )


def audiocaps_clips_with_labels(captions_csv: Path, segments_csv: Path, audio_dir: Path) -> pd.DataFrame:
    """AudioCaps clips (``captions_csv``) that AudioSet's segments file labels, with their mids as tags."""
    captions = pd.read_csv(captions_csv, dtype=str, keep_default_na=False)
    missing = [column for column in ("youtube_id", "start_time") if column not in captions.columns]
    if missing:
        raise ValueError(f"{captions_csv}: missing column(s) {missing}")
    labels = {
        row.record["YTID"].strip(): [mid.strip() for mid in row.record["positive_labels"].split(",") if mid.strip()]
        for row in read_segments(segments_csv)
    }
    names = frozenset(entry.name for entry in audio_dir.iterdir()) if audio_dir.is_dir() else frozenset()
    rows = []
    for youtube_id, start_time in (
        captions[["youtube_id", "start_time"]].drop_duplicates("youtube_id").itertuples(index=False)
    ):
        if youtube_id not in labels:
            continue
        found = find_audio([(audio_dir, names)], youtube_id, start_time)
        # A missing file keeps its expected name: feature caching reports and skips it.
        path = found if found is not None else audio_dir / f"Y{youtube_id}.wav"
        rows.append({"clip_id": f"Y{youtube_id}", "audio_path": str(path), "tags": labels[youtube_id]})
    log.info(
        "synonym_hypernym: %d of %d AudioCaps clips have AudioSet labels", len(rows), captions["youtube_id"].nunique()
    )
    return pd.DataFrame(rows, columns=["clip_id", "audio_path", "tags"])


def subsample(items: pd.DataFrame, count: int, seed: int) -> pd.DataFrame:
    """At most ``count`` items, drawn uniformly with a fixed seed, in their original order."""
    if len(items) <= count:
        return items
    keep = np.sort(np.random.default_rng(seed).choice(len(items), size=count, replace=False))
    return items.iloc[keep]


def with_clip_columns(items: pd.DataFrame, clips: pd.DataFrame) -> pd.DataFrame:
    """Add ``clip_id`` (when the loader gave none: the normalised audio path), and for a clip the
    training metadata knows its window, its description and its ``corpus_clip_id``, the key its
    features are cached under with its corpus (None otherwise). A loader's own ``description``
    (Speech-IFEval's transcript, the text-only backbone's stand-in for the audio) is kept."""
    items = items.copy()
    keys = items["audio_path"].map(os.path.normpath)
    if "clip_id" not in items.columns:
        items["clip_id"] = keys
    known = clips.drop_duplicates("path_key").set_index("path_key").reindex(keys)
    known.index = items.index
    items["offset_s"] = known["offset_s"].fillna(0.0).astype(float)
    items["duration_s"] = known["duration_s"].astype(float)
    described = items["description"] if "description" in items.columns else known["description"]
    items["description"] = described.astype(object).where(described.notna(), None)
    items["corpus_clip_id"] = known["clip_id"].astype(object).where(known["clip_id"].notna(), None)
    ordered = list(ITEM_COLUMNS) + CLIP_COLUMNS
    return items[ordered + [column for column in items.columns if column not in ordered]]


def write_evaluation_tables(
    metric_paths: Sequence[Path],
    answer_paths: Sequence[Path],
    models: Sequence[str],
    unconfigured: Mapping[str, str],
    text_model: str | None,
    outputs: Mapping[str, Path],
) -> None:
    """``evaluation_tables`` for the rows ``models`` (``text_model`` the text-only backbone's, if
    any), with a note for each ``unconfigured`` evaluation; ``outputs`` by the rule's names
    (table4, table4_plot, table5, table5_plot, details, comparisons)."""
    results, sheets = read_evaluation_results(metric_paths, answer_paths)
    statistics = scope_statistics(sheets)
    validity = evaluation_validity(sorted({evaluation for evaluation, _ in results}), text_model, sheets, statistics)
    for table, title in (
        (TABLE4, "Audio QA and hallucination (Table IV)"),
        (TABLE5, "Reasoning and instruction following (Table V)"),
    ):
        frame = results_table(table, results, models, unconfigured, text_model, validity)
        Path(outputs[table]).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(outputs[table], index=False)
        low, high, chance = cell_intervals(table, models, statistics)
        plot_results_table(frame, Path(outputs[f"{table}_plot"]), title, low=low, high=high, chance=chance)
        log.info("%s:\n%s", table, frame.drop(columns="notes").to_string(index=False))
    for judgement in validity.values():
        if judgement.note:
            log.warning("%s", judgement.note)
    Path(outputs["details"]).parent.mkdir(parents=True, exist_ok=True)
    details_table(results, statistics).to_csv(outputs["details"], index=False)
    comparisons = comparisons_table(sheets, models, text_model)
    comparisons.to_csv(outputs["comparisons"], index=False)
    log.info("comparisons:\n%s", comparisons.to_string(index=False))


def read_evaluation_results(
    metric_paths: Sequence[Path], answer_paths: Sequence[Path]
) -> tuple[dict[tuple[str, str], dict], dict[tuple[str, str], pd.DataFrame]]:
    """Each evaluation job's metrics and answer sheet, keyed (evaluation, model) as its metrics
    name them; a sheet must hold as many items as its metrics say were answered."""
    if len(metric_paths) != len(answer_paths):
        raise ValueError(f"{len(metric_paths)} metrics files but {len(answer_paths)} answer sheets")
    results, sheets = {}, {}
    for metric_path, answer_path in zip(metric_paths, answer_paths):
        metrics = json.loads(Path(metric_path).read_text())
        sheet = pd.read_parquet(answer_path)
        if len(sheet) != metrics["answered"]:
            raise ValueError(
                f"{answer_path}: {len(sheet)} answered items, but {metric_path} says {metrics['answered']}: "
                "are they the same job's?"
            )
        key = (metrics["evaluation"], metrics["model"])
        results[key], sheets[key] = metrics, sheet
    return results, sheets
