"""Stages that load the backbones: model preparation, target generation, feature caching,
adapter training, evaluation and inference.

The Snakemake workflow scripts and the ``balsa`` command line both call these, so every
stage can run by hand exactly as the workflow runs it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio import load_audio
from balsa_core.audio_llm import AudioLLM, AudioLLMSpec, Example
from balsa_core.backbones import ModelManifest, load_encoder, load_llm, prepare_model
from balsa_core.evaluation.probing import answer_with_audio, answer_with_text, score_answers
from balsa_core.features import FeatureStore, cache_features, encode_waveforms
from balsa_core.generation import SamplingSettings, make_backend
from balsa_core.generation.target_sets import TargetSet, read_questions, requests_for
from balsa_core.generation.targets import GenerationPlan, generate_target_set, read_targets
from balsa_core.metadata import read_metadata
from balsa_core.prompts import PromptTemplate
from balsa_core.reports import plot_loss_curve
from balsa_core.training import TrainingConfig, select_training_targets, train_adapter

log = logging.getLogger(__name__)

TEXT_CEILING = "text_ceiling"


def prepare(role: str, source: str, manifest_path: Path) -> None:
    prepare_model(role, source, manifest_path)


def generate(
    target_set: Mapping[str, Any],
    metadata_paths: Sequence[Path],
    pairs_path: Path | None,
    questions_path: Path | None,
    llm_manifest: Path | None,
    template: Mapping[str, str],
    generation: Mapping[str, Any],
    out_path: Path,
    quality_path: Path,
) -> None:
    """Write one target set: ``target_set`` is its config entry with ``name`` and
    ``samples_per_seed``; ``generation`` the settings it depends on (``generation_params``)."""
    spec = TargetSet(**target_set)
    metadata = pd.concat([read_metadata(path) for path in metadata_paths], ignore_index=True)
    requests = requests_for(
        spec,
        metadata,
        _template(template),
        generation["splits"],
        questions=read_questions(questions_path, metadata) if questions_path else None,
        pairs=pd.read_parquet(pairs_path) if pairs_path else None,
        seed=generation.get("seed", 0),
    )
    backend, settings = None, None
    if spec.uses_backend:
        backbone = ModelManifest.read(llm_manifest).path if llm_manifest else ""
        backend = make_backend(generation["backend"], backbone)
        settings = SamplingSettings(
            **{key: generation[key] for key in ("max_new_tokens", "temperature", "top_p", "seed")}
        )
    generate_target_set(
        spec,
        requests,
        metadata,
        backend,
        generation.get("backend_name"),
        GenerationPlan(settings, generation.get("shard_size", 512), generation["leaking_targets"]),
        corpus="pairs" if spec.audios == 2 else "+".join(sorted(metadata["corpus"].unique())),
        out_path=out_path,
        quality_path=quality_path,
    )


def features(metadata_path: Path, encoder_manifest: Path, settings: Mapping[str, Any], out_index: Path) -> None:
    encoder_path = ModelManifest.read(encoder_manifest).path
    encoder, feature_extractor = load_encoder(encoder_path)
    cache_features(
        read_metadata(metadata_path)[["clip_id", "audio_path", "offset_s", "duration_s"]],
        encoder,
        feature_extractor,
        layers=settings["layers"],
        out_dir=out_index.parent,
        fingerprint={"encoder": encoder_path},
        batch_size=settings["batch_size"],
        shard_size=settings["shard_size"],
    )


def train(
    target_paths: Sequence[Path],
    feature_indexes: Sequence[Path],
    llm_manifest: Path,
    encoder_manifest: Path,
    mix: Mapping[str, int],
    prompts: Mapping[str, Any],
    layers: Sequence[int],
    adapter_settings: Mapping[str, Any],
    training_settings: Mapping[str, Any],
    out_dir: Path,
) -> None:
    llm_path = ModelManifest.read(llm_manifest).path
    llm, tokenizer = load_llm(llm_path)
    store = FeatureStore(feature_indexes)
    targets = pd.concat([read_targets(path) for path in target_paths], ignore_index=True)
    training_set = select_training_targets(targets, mix)
    # Clips whose audio the cache skipped have no features; any other clip gives the width.
    encoder_dim = store.get(next(clip for clips in training_set["clip_ids"] for clip in clips if clip in store)).shape[
        -1
    ]
    adapter_config = AdapterConfig(
        encoder_dim=encoder_dim,
        llm_dim=llm.get_input_embeddings().embedding_dim,
        num_encoder_layers=len(layers),
        **adapter_settings,
    )
    config = TrainingConfig(**training_settings)
    torch.manual_seed(config.seed)
    model = AudioLLM(llm, tokenizer, QFormerAdapter(adapter_config), _template(prompts), config.max_target_tokens)
    history = train_adapter(model, training_set, store, config)
    spec = AudioLLMSpec(
        adapter=adapter_config,
        llm_path=llm_path,
        encoder_path=ModelManifest.read(encoder_manifest).path,
        encoder_layers=list(layers),
        template=_template(prompts),
    )
    model.save_adapter(out_dir, spec)
    history.to_csv(out_dir / "loss.csv", index=False)
    plot_loss_curve(history, out_dir / "loss.png", title=f"adapter training: {out_dir.name}")


def evaluate_hallucination(
    items_path: Path,
    model: str,
    adapter_dir: Path | None,
    feature_indexes: Sequence[Path],
    llm_manifest: Path,
    prompts: Mapping[str, Any],
    settings: Mapping[str, Any],
    out_answers: Path,
    out_metrics: Path,
) -> None:
    """Answer every probing question with one model: a trained adapter, or the text ceiling."""
    items = pd.read_parquet(items_path)
    if adapter_dir is None:
        backend = make_backend(
            {"type": "transformers", "batch_size": settings["batch_size"]}, ModelManifest.read(llm_manifest).path
        )
        answers = answer_with_text(
            backend, _template(prompts), items, settings["max_new_tokens"], settings["answer_instruction"]
        )
    else:
        audio_llm, _ = AudioLLM.from_pretrained(adapter_dir)
        answers = answer_with_audio(
            audio_llm,
            items,
            FeatureStore(feature_indexes),
            settings["batch_size"],
            settings["max_new_tokens"],
            settings["answer_instruction"],
        )
    scored, metrics = score_answers(items, answers)
    out_answers.parent.mkdir(parents=True, exist_ok=True)
    scored.to_parquet(out_answers, index=False)
    out_metrics.write_text(json.dumps({"model": model, "questions": len(scored), **metrics}, indent=2) + "\n")
    log.info("%s: %s", model, metrics)


def ask(adapter_dir: Path, audio_paths: Sequence[Path], question: str, max_new_tokens: int = 128) -> str:
    """Answer a question about one or several audio files with a trained adapter."""
    model, spec = AudioLLM.from_pretrained(adapter_dir)
    encoder, feature_extractor = load_encoder(spec.encoder_path)
    waveforms = [load_audio(path) for path in audio_paths]
    hidden = encode_waveforms(encoder, feature_extractor, waveforms, spec.encoder_layers)
    return model.generate([Example(features=hidden, instruction=question)], max_new_tokens=max_new_tokens)[0]


def _template(prompts: Mapping[str, Any]) -> PromptTemplate:
    return PromptTemplate(begin_audio=prompts["begin_audio"], end_audio=prompts["end_audio"])
