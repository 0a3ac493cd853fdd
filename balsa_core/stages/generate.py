"""rules/generate.smk: every target set (the backbone's answers to its prompt about each seed, or
the seeds themselves for ground-truth sets), and the quality table of all of them."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from balsa_core.generation import SamplingSettings, make_backend
from balsa_core.generation.target_sets import read_questions, requests_for
from balsa_core.generation.targets import GenerationPlan, generate_target_set
from balsa_core.metadata import read_metadata
from balsa_core.reports import generation_quality_table
from balsa_core.settings import PipelineConfig

log = logging.getLogger(__name__)


def generate_targets(
    config: PipelineConfig,
    target_set: str,
    metadata: Sequence[Path],
    llm: Path | None,
    questions: Path | None,
    targets: Path,
    quality: Path,
) -> None:
    """Write one single-audio target set of one corpus and its quality report; ``llm`` is the
    backbone's manifest (none for ground truth, or a set written by a server)."""
    _generate(config, target_set, metadata, llm, questions, None, targets, quality)


def generate_pair_targets(
    config: PipelineConfig,
    target_set: str,
    metadata: Sequence[Path],
    pairs: Path,
    llm: Path | None,
    targets: Path,
    quality: Path,
) -> None:
    """Write one two-audio target set on the pairs of ``multi_audio_pairs`` (BALSa-MA)."""
    _generate(config, target_set, metadata, llm, None, pairs, targets, quality)


def generation_quality(config: PipelineConfig, reports: Sequence[Path], table: Path) -> None:
    """results/generation_quality.csv: empty, cut-off and leaking targets of every target set."""
    quality = generation_quality_table([json.loads(path.read_text()) for path in reports])
    table.parent.mkdir(parents=True, exist_ok=True)
    quality.to_csv(table, index=False)
    log.info("generation quality:\n%s", quality.to_string(index=False))


def _generate(
    config: PipelineConfig,
    target_set: str,
    metadata_paths: Sequence[Path],
    llm: Path | None,
    questions: Path | None,
    pairs: Path | None,
    targets: Path,
    quality: Path,
) -> None:
    spec = config.targets[target_set]
    generation = config.generation
    metadata = pd.concat([read_metadata(path) for path in metadata_paths], ignore_index=True)
    requests = requests_for(
        spec,
        metadata,
        config.prompts,
        generation.splits,
        questions=read_questions(questions, metadata, with_answers=spec.source == "question_answers")
        if questions
        else None,
        pairs=pd.read_parquet(pairs) if pairs else None,
        seed=generation.seed,
    )
    backend = backend_name = settings = None
    if spec.uses_backend:
        from balsa_core.backbones import ModelManifest

        # A set's own backend (the external-LLM ablation), else the default one.
        backend_name = spec.backend or generation.backend
        backbone = ModelManifest.read(llm).path if llm else ""
        backend = make_backend(generation.backends[backend_name], backbone, config.prompts.system_message)
        settings = SamplingSettings(
            max_new_tokens=generation.max_new_tokens,
            temperature=generation.temperature,
            top_p=generation.top_p,
            seed=generation.seed,
        )
    generate_target_set(
        spec,
        requests,
        metadata,
        backend,
        backend_name,
        GenerationPlan(settings, generation.shard_size, generation.leaking_targets),
        corpus="pairs" if spec.audios == 2 else "+".join(sorted(metadata["corpus"].unique())),
        out_path=targets,
        quality_path=quality,
    )
