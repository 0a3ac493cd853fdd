"""rules/train.smk: one adapter per variant, on its target sets, from the cached features.

With ``training.distributed`` asking for several processes, ``torchrun`` starts them and each
trains on its share of every global batch: the job travels to them as a pickled ``TrainingJob``.
On one node ``torchrun --standalone`` needs nothing else; on several, the same command runs once
per node (``srun`` under SLURM) and meets at ``rdzv_endpoint``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from balsa_core.prompts import PromptTemplate
from balsa_core.settings import AdapterSettings, Distributed, PipelineConfig, Training

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

    from balsa_core.adapter import AdapterConfig, QFormerAdapter
    from balsa_core.audio_llm import AudioLLMSpec
    from balsa_core.backbones import ModelManifest
    from balsa_core.features import FeatureStore
    from balsa_core.training import World

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingJob:
    """One variant's training: the config and the files of its rule."""

    config: PipelineConfig
    variant: str
    targets: list[Path]
    features: list[Path]
    llm: Path
    encoder: Path
    init_from: Path | None
    weights: Path

    def save(self, path: Path) -> None:
        path.write_bytes(pickle.dumps(self))

    @classmethod
    def load(cls, path: Path) -> TrainingJob:
        return pickle.loads(path.read_bytes())


def train_adapter(
    config: PipelineConfig,
    variant: str,
    targets: Sequence[Path],
    features: Sequence[Path],
    llm: Path,
    encoder: Path,
    init_from: Path | None,
    weights: Path,
) -> None:
    """Train one variant's adapter and write it with its config, loss.csv and loss.png beside
    ``weights``. ``init_from`` is the stage-1 adapter that stage 2 of the multi-audio curriculum
    starts from."""
    job = TrainingJob(config, variant, list(targets), list(features), llm, encoder, init_from, weights)
    distributed = config.variants[variant].training.distributed
    if distributed.processes == 1:
        train_on_this_process(job)
        return
    weights.parent.mkdir(parents=True, exist_ok=True)
    spec_path = weights.parent / "train_job.pkl"
    job.save(spec_path)
    command = torchrun_command(spec_path, distributed)
    log.info("launching: %s", " ".join(command))
    result = subprocess.run(command, check=False)
    spec_path.unlink(missing_ok=True)
    if result.returncode != 0:
        raise RuntimeError(f"distributed training failed (exit code {result.returncode}): {' '.join(command)}")


def torchrun_command(spec_path: Path, distributed: Distributed) -> list[str]:
    """The command that starts ``distributed.processes_per_node`` processes of this module on
    each node, every one training the job of ``spec_path``."""
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={distributed.processes_per_node}"]
    if distributed.nodes == 1:
        command.append("--standalone")
    else:
        if not distributed.rdzv_endpoint:
            raise ValueError("training.distributed.rdzv_endpoint (host:port of the first node) is needed for nodes > 1")
        command += [
            f"--nnodes={distributed.nodes}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={distributed.rdzv_endpoint}",
        ]
        if "SLURM_JOB_ID" in os.environ:
            command = ["srun", f"--nodes={distributed.nodes}", "--ntasks-per-node=1", *command]
    return [*command, "-m", "balsa_core.stages.train", str(spec_path)]


def train_on_this_process(job: TrainingJob) -> None:
    """The training of ``job`` in this process: all of it, or under torchrun its share."""
    import torch.distributed as dist

    from balsa_core import training
    from balsa_core.audio_llm import AudioLLM
    from balsa_core.backbones import ModelManifest, inference_dtype, load_llm
    from balsa_core.features import FeatureStore
    from balsa_core.generation.targets import read_targets
    from balsa_core.reports import plot_loss_curve

    config, variant = job.config, job.config.variants[job.variant]
    world = training.World.from_environment()
    device = _init_process_group(world)
    llm_manifest, encoder_manifest = ModelManifest.read(job.llm), ModelManifest.read(job.encoder)
    # The frozen LLM runs in its inference dtype; only the adapter keeps fp32 master weights.
    llm, tokenizer = load_llm(llm_manifest.path, dtype=inference_dtype(device))
    store = FeatureStore(job.features)
    targets = pd.concat([read_targets(path) for path in job.targets], ignore_index=True)
    settings = loop_settings(variant.training)
    loop_config = training.TrainingConfig(**settings)
    training_set, validation_set = training.split_validation(
        training.select_training_targets(targets, variant.mix), loop_config.validation_fraction, loop_config.seed
    )
    training_clips = [clip for clips in training_set["clip_ids"] for clip in clips]
    adapter_config = adapter_config_for(store, training_clips, llm, config.features.layers, config.adapter)
    if job.init_from is None:
        adapter = initial_adapter(adapter_config, loop_config.seed, store, training_clips)
    else:
        adapter = _stage_one_adapter(job.init_from.parent, adapter_config)
    model = AudioLLM(llm.to(device), tokenizer, adapter.to(device), config.prompts, loop_config.max_target_tokens)
    run_key = _run_key(training_set, adapter_config, settings, llm_manifest.path, config.prompts, job.init_from)
    adapter_dir = job.weights.parent
    checkpoints = checkpoint_root(adapter_dir)
    if world.is_main:
        _remove_other_runs(checkpoints, keep=run_key)
    history = training.train_adapter(
        model, training_set, store, loop_config, checkpoints / run_key, world, validation_set
    )
    if world.is_main:
        model.spec = audio_llm_spec(adapter_config, llm_manifest, encoder_manifest, config, job.variant)
        model.save_pretrained(adapter_dir)
        history.to_csv(adapter_dir / "loss.csv", index=False)
        plot_loss_curve(history, adapter_dir / "loss.png", title=f"adapter training: {adapter_dir.name}")
        # A finished run needs no checkpoints; a later change of inputs starts afresh.
        shutil.rmtree(checkpoints, ignore_errors=True)
    if world.size > 1:
        dist.destroy_process_group()


def loop_settings(training: Training) -> dict[str, Any]:
    """The settings of the training loop (``training.TrainingConfig``): all but where it runs."""
    return {name: value for name, value in asdict(training).items() if name != "distributed"}


def adapter_config_for(
    store: FeatureStore,
    clip_ids: Iterable[str],
    llm: PreTrainedModel,
    layers: Sequence[int],
    adapter: AdapterSettings,
) -> AdapterConfig:
    """The adapter's shape: the encoder width of the first of ``clip_ids`` with cached features
    (clips whose audio the cache skipped have none), the LLM's embedding width and scale, one
    readout per configured encoder layer, and the config's adapter settings."""
    from balsa_core.adapter import AdapterConfig

    first_clip = next((clip for clip in clip_ids if clip in store), None)
    if first_clip is None:
        raise ValueError("no clip has cached features, so the encoder width is unknown")
    embeddings = llm.get_input_embeddings().weight
    return AdapterConfig(
        encoder_dim=store.get(first_clip).shape[-1],
        llm_dim=embeddings.shape[1],
        num_encoder_layers=len(layers),
        output_rms=round(float(embeddings.detach().float().pow(2).mean().sqrt()), 6),
        **asdict(adapter),
    )


# Clips whose mean pooled features the adapter is first centred on (enough for a stable mean).
CENTER_CLIPS = 64


def initial_adapter(config: AdapterConfig, seed: int, store: FeatureStore, clip_ids: Iterable[str]) -> QFormerAdapter:
    """The adapter before training, centred on the first ``CENTER_CLIPS`` distinct clips of
    ``clip_ids`` with cached features: the same seed and clips give the same weights."""
    import torch

    from balsa_core.adapter import QFormerAdapter
    from balsa_core.audio_llm import pad_features

    torch.manual_seed(seed)
    adapter = QFormerAdapter(config)
    centred_on = list(dict.fromkeys(clip for clip in clip_ids if clip in store))[:CENTER_CLIPS]
    if not centred_on:
        raise ValueError("no clip has cached features to centre the adapter on")
    adapter.initialise_center(*pad_features([store.get(clip) for clip in centred_on]))
    return adapter


def audio_llm_spec(
    adapter_config: AdapterConfig,
    llm: ModelManifest,
    encoder: ModelManifest,
    config: PipelineConfig,
    variant: str | None = None,
) -> AudioLLMSpec:
    """What ``AudioLLM.from_pretrained`` rebuilds the model from, saved beside the weights: the
    backbones by absolute path (so it loads from any directory) and by hub id and commit (so it
    loads on another machine), and what ``variant`` trained on (``None``: the untrained adapter)."""
    from balsa_core.audio_llm import AudioLLMSpec

    features = config.features
    training = None
    if variant is not None:
        settings = config.variants[variant]
        training = {
            "variant": variant,
            "mix": dict(settings.mix),
            "init_from": settings.init_from,
            "corpora": sorted(config.corpora),
        }
    return AudioLLMSpec(
        adapter=adapter_config,
        **_backbone_fields("llm", llm),
        **_backbone_fields("encoder", encoder),
        encoder_layers=list(features.layers),
        template=config.prompts,
        encoder_window=features.window,
        encoder_trim=features.trim,
        training=training,
    )


def _backbone_fields(backbone: str, manifest: ModelManifest) -> dict[str, str | None]:
    """``AudioLLMSpec``'s ``<backbone>_path``, ``_hub_id`` and ``_commit`` from the backbone's manifest."""
    return {
        f"{backbone}_path": str(Path(manifest.path).resolve()),
        f"{backbone}_hub_id": manifest.hub_id,
        f"{backbone}_commit": manifest.commit,
    }


def checkpoint_root(adapter_dir: Path) -> Path:
    """Checkpoints live beside the adapter directory (a declared output Snakemake would delete
    after a failure), in a subdirectory per set of training inputs."""
    return adapter_dir.with_name(adapter_dir.name + ".checkpoints")


def _init_process_group(world: World) -> torch.device:
    import torch
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    if world.size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def _stage_one_adapter(directory: Path, config: AdapterConfig) -> QFormerAdapter:
    from balsa_core.audio_llm import load_adapter

    adapter, spec = load_adapter(directory)
    if spec.adapter != config:
        raise ValueError(f"{directory}: its adapter config {spec.adapter} differs from this variant's {config}")
    log.info("stage 2 starts from the stage-1 adapter %s", directory)
    return adapter.train()


def _run_key(
    training_set: pd.DataFrame,
    adapter_config: AdapterConfig,
    settings: dict[str, Any],
    llm_path: str,
    template: PromptTemplate,
    init_from: Path | None,
) -> str:
    """A digest of everything the trained weights depend on: checkpoints of other inputs are
    never resumed."""
    digest = hashlib.sha256()
    for column in ("target_id", "instruction", "target"):
        digest.update("\x1f".join(training_set[column].astype(str)).encode())
    initial = init_from.read_bytes() if init_from is not None else b""
    digest.update(hashlib.sha256(initial).digest())
    described = [asdict(adapter_config), settings, llm_path, asdict(template)]
    digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def _remove_other_runs(checkpoints: Path, keep: str) -> None:
    for run in checkpoints.glob("*"):
        if run.name != keep:
            log.info("removing checkpoints of other training inputs: %s", run)
            shutil.rmtree(run, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """A torchrun process: ``python -m balsa_core.stages.train JOB.pkl``."""
    from balsa_core.logs import setup_logging

    (spec_path,) = argv if argv is not None else sys.argv[1:]
    setup_logging()
    train_on_this_process(TrainingJob.load(Path(spec_path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
