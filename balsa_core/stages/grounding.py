"""rules/grounding.smk: the grounding evaluation's floor, the untrained adapter, and its table.

Its items, features and answers come from the rules of every evaluation (``stages.evaluate``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from balsa_core.evaluation import grounding as grounding_evaluation
from balsa_core.reports import plot_grounding
from balsa_core.settings import PipelineConfig
from balsa_core.stages.train import adapter_config_for, audio_llm_spec, initial_adapter

log = logging.getLogger(__name__)


def untrained_adapter(
    config: PipelineConfig, features: Sequence[Path], llm: Path, encoder: Path, weights: Path
) -> None:
    """Save the adapter as ``train_adapter`` starts it (same shape, seed and initialisation, but
    centred on the first clips of the feature cache, not of one variant's training set) and as
    it saves a trained one, without training it: the floor of the grounding evaluation, which
    every evaluation reads like any variant's adapter."""
    from balsa_core.audio_llm import AudioLLM
    from balsa_core.backbones import ModelManifest, inference_device, inference_dtype, load_llm
    from balsa_core.features import FeatureStore

    llm_manifest = ModelManifest.read(llm)
    backbone, tokenizer = load_llm(llm_manifest.path, dtype=inference_dtype(inference_device()))
    store = FeatureStore(features)
    adapter_config = adapter_config_for(store, store, backbone, config.features.layers, config.adapter)
    seed = config.training.seed
    adapter = initial_adapter(adapter_config, seed, store, store)
    model = AudioLLM(backbone, tokenizer, adapter, config.prompts)
    spec = audio_llm_spec(adapter_config, llm_manifest, ModelManifest.read(encoder), config)
    model.save_adapter(weights.parent, spec)
    log.info("untrained adapter (seed %d): %s", seed, adapter_config)


def grounding_table(config: PipelineConfig, answers: Sequence[Path], table: Path, plot: Path) -> None:
    """results/grounding.csv and its plot from the scored answers of the untrained adapter, the
    variants and the text ceiling, in that order."""
    write_grounding_table(answers, config.grounding_models, config.evaluation.grounding.seed, table, plot)


def write_grounding_table(
    answer_paths: Sequence[Path], models: Sequence[str], seed: int, table: Path, plot: Path
) -> None:
    """The grounding table of ``models`` from their scored answers (``answer_paths`` in the same
    order); ``seed`` draws the bootstrap resamples."""
    if len(answer_paths) != len(models):
        raise ValueError(f"{len(answer_paths)} answer sheets for {len(models)} models")
    scored = {model: pd.read_parquet(path) for model, path in zip(models, answer_paths)}
    results = grounding_evaluation.grounding_table(scored, seed=seed)
    table.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(table, index=False)
    plot_grounding(results, plot)
    log.info("grounding:\n%s", results.to_string(index=False))
