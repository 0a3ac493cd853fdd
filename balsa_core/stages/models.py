"""Stages that load the backbones: model preparation, target generation, feature caching,
adapter training, evaluation and inference.

The Snakemake workflow scripts and the ``balsa`` command line both call these, so every
stage can run by hand exactly as the workflow runs it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.distributed as dist
from transformers import PreTrainedModel

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio_llm import ADAPTER_WEIGHTS, AudioLLM, AudioLLMSpec, load_adapter
from balsa_core.backbones import ModelManifest, inference_device, inference_dtype, load_encoder, load_llm, prepare_model
from balsa_core.evaluation.answering import answer_with_audio, answer_with_text
from balsa_core.evaluation.grounding import grounding_metrics, score_grounding
from balsa_core.evaluation.registry import FREE_FORM, GROUNDING
from balsa_core.evaluation.suite import evaluation_metrics, score_replies
from balsa_core.features import FeatureStore, cache_features
from balsa_core.generation import SamplingSettings, make_backend
from balsa_core.generation.target_sets import TargetSet, read_questions, requests_for
from balsa_core.generation.targets import GenerationPlan, generate_target_set, read_targets
from balsa_core.metadata import read_metadata
from balsa_core.prompts import PromptTemplate
from balsa_core.reports import plot_loss_curve
from balsa_core.training import TrainingConfig, World, select_training_targets, split_validation, train_adapter

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
        backend = make_backend(generation["backend"], backbone, _template(template).system_message)
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
    _cache_clips(read_metadata(metadata_path), encoder_manifest, settings, out_index)


def evaluation_features(items_path: Path, encoder_manifest: Path, settings: Mapping[str, Any], out_index: Path) -> None:
    """Cache the features of the clips an evaluation asks about that no training corpus's cache
    holds (see ``evaluation_feature_key``); unreadable audio is reported and skipped."""
    items = pd.read_parquet(items_path)
    missing = items[items["corpus_clip_id"].isna()].drop_duplicates("clip_id")
    log.info(
        "%d clips are cached with their training corpus, %d to encode",
        items.loc[items["corpus_clip_id"].notna(), "corpus_clip_id"].nunique(),
        len(missing),
    )
    _cache_clips(missing, encoder_manifest, settings, out_index)


def evaluation_feature_key(items: pd.DataFrame) -> pd.Series:
    """Where each item's features are: its corpus's cache for a training-corpus clip, else the
    evaluation's own cache (the same settings make both)."""
    return items["corpus_clip_id"].where(items["corpus_clip_id"].notna(), items["clip_id"])


def _cache_clips(clips: pd.DataFrame, encoder_manifest: Path, settings: Mapping[str, Any], out_index: Path) -> None:
    encoder_path = ModelManifest.read(encoder_manifest).path
    # With no clips the cache only writes its empty index, so the encoder is not even loaded.
    encoder = feature_extractor = None
    if len(clips):
        encoder, feature_extractor = load_encoder(encoder_path)
        encoder = encoder.to(inference_device())
    cache_features(
        clips[["clip_id", "audio_path", "offset_s", "duration_s"]],
        encoder,
        feature_extractor,
        layers=settings["layers"],
        out_dir=out_index.parent,
        fingerprint={"encoder": encoder_path},
        batch_size=settings["batch_size"],
        shard_size=settings["shard_size"],
        window=settings["window"],
        trim=settings["trim"],
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
    init_from: Path | None = None,
    feature_settings: Mapping[str, Any] | None = None,
) -> None:
    """Train one variant's adapter. ``init_from`` is a stage-1 adapter directory that stage 2 of
    the multi-audio curriculum starts from. Under ``torchrun`` every process runs this."""
    world = World.from_environment()
    device = _init_process_group(world)
    llm_path = ModelManifest.read(llm_manifest).path
    # The frozen LLM runs in its inference dtype; only the adapter keeps fp32 master weights.
    llm, tokenizer = load_llm(llm_path, dtype=inference_dtype(device))
    store = FeatureStore(feature_indexes)
    targets = pd.concat([read_targets(path) for path in target_paths], ignore_index=True)
    settings = {key: value for key, value in training_settings.items() if key != "distributed"}
    config = TrainingConfig(**settings)
    training_set, validation_set = split_validation(
        select_training_targets(targets, mix), config.validation_fraction, config.seed
    )
    training_clips = (clip for clips in training_set["clip_ids"] for clip in clips)
    adapter_config = adapter_config_for(store, training_clips, llm, layers, adapter_settings)
    adapter = initial_adapter(adapter_config, config.seed)
    if init_from is not None:
        adapter = _stage_one_adapter(init_from, adapter_config)
    model = AudioLLM(llm.to(device), tokenizer, adapter.to(device), _template(prompts), config.max_target_tokens)
    run_key = _run_key(training_set, adapter_config, settings, llm_path, prompts, init_from)
    checkpoints = checkpoint_root(out_dir)
    if world.is_main:
        _remove_other_runs(checkpoints, keep=run_key)
    history = train_adapter(model, training_set, store, config, checkpoints / run_key, world, validation_set)
    if world.is_main:
        model.save_adapter(
            out_dir, audio_llm_spec(adapter_config, llm_path, encoder_manifest, layers, prompts, feature_settings)
        )
        history.to_csv(out_dir / "loss.csv", index=False)
        plot_loss_curve(history, out_dir / "loss.png", title=f"adapter training: {out_dir.name}")
        # A finished run needs no checkpoints; a later change of inputs starts afresh.
        shutil.rmtree(checkpoints, ignore_errors=True)
    if world.size > 1:
        dist.destroy_process_group()


def untrained_adapter(
    feature_indexes: Sequence[Path],
    llm_manifest: Path,
    encoder_manifest: Path,
    prompts: Mapping[str, Any],
    layers: Sequence[int],
    adapter_settings: Mapping[str, Any],
    feature_settings: Mapping[str, Any],
    seed: int,
    out_dir: Path,
) -> None:
    """Save the adapter exactly as ``train`` starts it (same shape, same seed) and as ``train``
    saves a trained one, without training it: the floor of the grounding evaluation, which every
    evaluation reads like any variant's adapter."""
    llm_path = ModelManifest.read(llm_manifest).path
    llm, tokenizer = load_llm(llm_path, dtype=inference_dtype(inference_device()))
    store = FeatureStore(feature_indexes)
    adapter_config = adapter_config_for(store, store, llm, layers, adapter_settings)
    model = AudioLLM(llm, tokenizer, initial_adapter(adapter_config, seed), _template(prompts))
    model.save_adapter(
        out_dir, audio_llm_spec(adapter_config, llm_path, encoder_manifest, layers, prompts, feature_settings)
    )
    log.info("untrained adapter (seed %d): %s", seed, adapter_config)


def adapter_config_for(
    store: FeatureStore,
    clip_ids: Iterable[str],
    llm: PreTrainedModel,
    layers: Sequence[int],
    adapter_settings: Mapping[str, Any],
) -> AdapterConfig:
    """The adapter's shape: the encoder width of the first of ``clip_ids`` with cached features
    (clips whose audio the cache skipped have none), the LLM's embedding width and scale, one
    readout per configured encoder layer, and the config's adapter settings."""
    first_clip = next((clip for clip in clip_ids if clip in store), None)
    if first_clip is None:
        raise ValueError("no clip has cached features, so the encoder width is unknown")
    embeddings = llm.get_input_embeddings().weight
    return AdapterConfig(
        encoder_dim=store.get(first_clip).shape[-1],
        llm_dim=embeddings.shape[1],
        num_encoder_layers=len(layers),
        output_rms=round(float(embeddings.detach().float().pow(2).mean().sqrt()), 6),
        **adapter_settings,
    )


def initial_adapter(config: AdapterConfig, seed: int) -> QFormerAdapter:
    """The adapter before training: the same seed gives the same weights."""
    torch.manual_seed(seed)
    return QFormerAdapter(config)


def audio_llm_spec(
    adapter_config: AdapterConfig,
    llm_path: str,
    encoder_manifest: Path,
    layers: Sequence[int],
    prompts: Mapping[str, Any],
    feature_settings: Mapping[str, Any] | None,
) -> AudioLLMSpec:
    """What ``AudioLLM.from_pretrained`` rebuilds the model from, saved beside the weights."""
    return AudioLLMSpec(
        adapter=adapter_config,
        llm_path=llm_path,
        encoder_path=ModelManifest.read(encoder_manifest).path,
        encoder_layers=list(layers),
        template=_template(prompts),
        encoder_window=(feature_settings or {}).get("window", "full"),
        encoder_trim=(feature_settings or {}).get("trim", True),
    )


def checkpoint_root(out_dir: Path) -> Path:
    """Checkpoints live beside the adapter directory (a declared output Snakemake would delete
    after a failure), in a subdirectory per set of training inputs."""
    return out_dir.with_name(out_dir.name + ".checkpoints")


def _init_process_group(world: World) -> torch.device:
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    if world.size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def _stage_one_adapter(directory: Path, config: AdapterConfig) -> QFormerAdapter:
    adapter, spec = load_adapter(directory)
    if spec.adapter != config:
        raise ValueError(f"{directory}: its adapter config {spec.adapter} differs from this variant's {config}")
    log.info("stage 2 starts from the stage-1 adapter %s", directory)
    return adapter.train()


def _run_key(
    training_set: pd.DataFrame,
    adapter_config: AdapterConfig,
    settings: Mapping[str, Any],
    llm_path: str,
    prompts: Mapping[str, Any],
    init_from: Path | None,
) -> str:
    """A digest of everything the trained weights depend on: checkpoints of other inputs are
    never resumed."""
    digest = hashlib.sha256()
    for column in ("target_id", "instruction", "target"):
        digest.update("\x1f".join(training_set[column].astype(str)).encode())
    initial = (init_from / ADAPTER_WEIGHTS).read_bytes() if init_from is not None else b""
    digest.update(hashlib.sha256(initial).digest())
    described = [asdict(adapter_config), dict(settings), llm_path, dict(prompts)]
    digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def _remove_other_runs(checkpoints: Path, keep: str) -> None:
    for run in checkpoints.glob("*"):
        if run.name != keep:
            log.info("removing checkpoints of other training inputs: %s", run)
            shutil.rmtree(run, ignore_errors=True)


def evaluate(
    evaluation: str,
    items_path: Path,
    model: str,
    adapter_dir: Path | None,
    feature_indexes: Sequence[Path],
    llm_manifest: Path,
    prompts: Mapping[str, Any],
    answering: Mapping[str, Any],
    out_answers: Path,
    out_metrics: Path,
) -> None:
    """Ask every item of one evaluation to one model (a trained adapter, or the text-only
    backbone reading each clip's description) and score the replies. ``feature_indexes`` are
    the training corpora's caches and the evaluation's own (``evaluation_features``)."""
    items = pd.read_parquet(items_path)
    max_new_tokens = answering["instruction_max_new_tokens" if evaluation in FREE_FORM else "max_new_tokens"]
    if adapter_dir is None:
        askable = items["description"].notna()
        skip_reason = "no text description of the clip"
    else:
        store = FeatureStore(feature_indexes)
        feature_keys = evaluation_feature_key(items)
        askable = feature_keys.map(store.__contains__).astype(bool)
        skip_reason = "audio missing or unreadable"
    asked = items[askable].reset_index(drop=True)
    for clip in items.loc[~askable, "audio_path"].unique()[:20]:
        log.warning("%s: skipping the items of %s (%s)", evaluation, clip, skip_reason)
    if asked.empty:
        replies: list[str] = []
    elif adapter_dir is None:
        backend = make_backend(
            {"type": "transformers", "batch_size": answering["batch_size"]},
            ModelManifest.read(llm_manifest).path,
            _template(prompts).system_message,
        )
        replies = answer_with_text(
            backend, _template(prompts), list(asked["description"]), list(asked["prompt"]), max_new_tokens
        )
    else:
        audio_llm, _ = AudioLLM.from_pretrained(adapter_dir, with_encoder=False)
        replies = answer_with_audio(
            audio_llm,
            list(feature_keys[askable]),
            list(asked["prompt"]),
            store,
            answering["batch_size"],
            max_new_tokens,
        )
    # Grounding scores descriptions by the tag words they name; the rest read back an answer.
    score, summarize = (
        (score_grounding, grounding_metrics) if evaluation == GROUNDING else (score_replies, evaluation_metrics)
    )
    scored = score(asked, replies)
    metrics = {
        "evaluation": evaluation,
        "model": model,
        "items": len(items),
        "answered": len(scored),
        "skipped": {skip_reason: int((~askable).sum())},
        **summarize(scored),
    }
    out_answers.parent.mkdir(parents=True, exist_ok=True)
    scored.to_parquet(out_answers, index=False)
    out_metrics.write_text(json.dumps(metrics, indent=2) + "\n")
    log.info("%s / %s: %s", evaluation, model, metrics["overall"])


def ask(adapter_dir: Path, audio_paths: Sequence[Path], question: str, max_new_tokens: int = 128) -> str:
    """Answer a question about one or several audio files with a trained adapter."""
    model, _ = AudioLLM.from_pretrained(adapter_dir)
    return model.generate(audio_paths, question, max_new_tokens=max_new_tokens)


def _template(prompts: Mapping[str, Any]) -> PromptTemplate:
    return PromptTemplate(
        begin_audio=prompts["begin_audio"],
        end_audio=prompts["end_audio"],
        system_message=prompts.get("system_message"),
    )
