"""Train the adapter on the backbone's own targets: next-token loss on the target tokens, Adam,
linear warmup then cosine annealing, the global batch reached by gradient accumulation.

The loop is a function of the step number: step ``s`` trains on global batch ``s`` of a
per-epoch permutation seeded by ``seed + epoch``, at the learning rate of step ``s``. A
checkpoint therefore needs only the adapter, the optimizer, the step, the loss log and the
random-number states (dropout) to resume exactly where a killed run stopped.

Besides the loss, every ``eval_every`` steps (and after the last) the main process logs the
loss of a held-out validation slice (``split_validation``: clips whose targets never train) and
the collapse monitor of ``balsa_core.monitor`` on a fixed probe batch of training clips. Both run
with dropout off and draw no random numbers, so they change neither training nor its resume.

Several processes (``torchrun``) split each global batch between them and average their
gradients once per optimizer step, the data-parallel (DDP) scheme; every process holds the same
adapter, so the result equals one process training on the same global batches.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist

from balsa_core.audio_llm import AudioLLM, Example
from balsa_core.features import FeatureStore
from balsa_core.monitor import probe_stats, validation_loss

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "step-"
LOG_COLUMNS = ["step", "epoch", "loss", "lr", "grad_norm", "val_loss", "probe_spread", "probe_norm_ratio"]


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int
    learning_rate: float = 1e-4
    micro_batch_size: int = 8
    global_batch_size: int = 16
    warmup_steps: int = 2000
    max_target_tokens: int = 256
    seed: int = 0
    checkpoint_every: int = 500  # optimizer steps between checkpoints; 0: none
    keep_checkpoints: int = 2
    precision: str = "auto"  # auto: bf16 autocast on GPU, fp32 on CPU; or "bf16", "fp32"
    max_grad_norm: float = 1.0  # gradient clipping (the papers do not say; 0: none)
    validation_fraction: float = 0.0  # share of the training clips held out (see split_validation)
    eval_every: int = 0  # steps between validation-loss and collapse-monitor entries; 0: last step only
    probe_clips: int = 16  # clips of the collapse monitor's fixed probe batch


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (``torchrun`` sets the environment)."""

    rank: int = 0
    size: int = 1

    @classmethod
    def from_environment(cls) -> World:
        return cls(rank=int(os.environ.get("RANK", 0)), size=int(os.environ.get("WORLD_SIZE", 1)))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def select_training_targets(targets: pd.DataFrame, mix: Mapping[str, int]) -> pd.DataFrame:
    """The training set of one variant: per training seed (or pair), ``mix[set]`` samples of
    each target set."""
    wanted = targets["target_set"].map(dict(mix)).fillna(0)
    chosen = targets[(targets["split"] == "train") & (targets["sample_index"] < wanted)]
    empty = chosen["target"].fillna("").str.strip() == ""
    if empty.any():
        log.warning("dropping %d empty targets", int(empty.sum()))
    return chosen[~empty].sort_values("target_id").reset_index(drop=True)


def split_validation(training_set: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a seeded ``fraction`` of the training clips: every target that involves one of
    them (each of a clip's captions, a pair it belongs to) goes to validation and never trains,
    so the validation loss is measured on audio the adapter has not heard."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"training.validation_fraction must be in [0, 1), got {fraction}")
    clips = sorted({clip for clip_ids in training_set["clip_ids"] for clip in clip_ids})
    count = round(fraction * len(clips))
    if count == 0:
        return training_set, training_set.iloc[0:0]
    order = torch.randperm(len(clips), generator=torch.Generator().manual_seed(seed)).tolist()
    held_out = {clips[i] for i in order[:count]}
    validation = training_set["clip_ids"].map(lambda clip_ids: any(clip in held_out for clip in clip_ids))
    if validation.all():
        raise ValueError(f"training.validation_fraction={fraction} leaves no training targets")
    return training_set[~validation].reset_index(drop=True), training_set[validation].reset_index(drop=True)


def probe_clip_ids(training_set: pd.DataFrame, count: int) -> list[str]:
    """The collapse monitor's fixed probe batch: ``count`` clips spread evenly over the sorted
    training clips (at least two, for a spread between clips)."""
    clips = sorted({clip for clip_ids in training_set["clip_ids"] for clip in clip_ids})
    if len(clips) < 2:
        return []
    picks = torch.linspace(0, len(clips) - 1, min(max(count, 2), len(clips))).round().long().tolist()
    return [clips[i] for i in dict.fromkeys(picks)]


def learning_rate_at(step: int, total_steps: int, warmup_steps: int, peak: float) -> float:
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def epoch_order(num_examples: int, seed: int, epoch: int) -> list[int]:
    return torch.randperm(num_examples, generator=torch.Generator().manual_seed(seed + epoch)).tolist()


def train_adapter(
    model: AudioLLM,
    training_set: pd.DataFrame,
    store: FeatureStore,
    config: TrainingConfig,
    checkpoint_dir: Path | None = None,
    world: World = World(),
    validation_set: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Train ``model.adapter`` in place and return the per-step log (``LOG_COLUMNS``).

    With ``checkpoint_dir``, a checkpoint is written every ``config.checkpoint_every`` steps and
    the run resumes from the newest one found there. ``validation_set`` (targets that never
    train) gives the ``val_loss`` column; without it that column stays empty.
    """
    training_set = _with_cached_features(training_set, store)
    device = next(model.adapter.parameters()).device
    steps_per_epoch = math.ceil(len(training_set) / config.global_batch_size)
    total_steps = config.epochs * steps_per_epoch
    optimizer = torch.optim.Adam(model.adapter.parameters(), lr=config.learning_rate)
    # Gradients exist from the start, so a process with no example in a short last batch still
    # contributes zeros to the sum over processes.
    for parameter in model.adapter.parameters():
        parameter.grad = torch.zeros_like(parameter)
    torch.manual_seed(config.seed + world.rank)
    history: list[dict[str, Any]] = []
    start_step = 0
    if checkpoint_dir is not None:
        start_step, history = resume_from_checkpoint(checkpoint_dir, model, optimizer, world)
    if world.is_main:
        log.info(
            "training on %d examples: %d epochs x %d steps, global batch %d (micro %d) over %d process(es)%s",
            len(training_set),
            config.epochs,
            steps_per_epoch,
            config.global_batch_size,
            config.micro_batch_size,
            world.size,
            f", resuming after step {start_step}" if start_step else "",
        )

    def example(row: int, table: pd.DataFrame = training_set) -> Example:
        record = table.iloc[row]
        features = [store.get(clip).to(device) for clip in record["clip_ids"]]
        return Example(features=features, instruction=record["instruction"], target=record["target"])

    validation = [] if validation_set is None else _with_cached_features(validation_set, store, required=False)
    validation_examples = [example(row, validation) for row in range(len(validation))]
    probe = [store.get(clip).to(device) for clip in probe_clip_ids(training_set, config.probe_clips)]

    def monitored(done: int) -> dict[str, float]:
        """Validation loss and collapse monitor after step ``done``, on the main process when due."""
        due = done == total_steps or (config.eval_every and done % config.eval_every == 0)
        if not (world.is_main and due):
            return {}
        values = {}
        if validation_examples:
            values["val_loss"] = validation_loss(model, validation_examples, config.micro_batch_size)
        if probe:
            stats = probe_stats(model, probe)
            values.update(probe_spread=stats.spread, probe_norm_ratio=stats.norm_ratio)
        log.info("after step %d: %s", done, ", ".join(f"{name} {value:.4f}" for name, value in values.items()))
        return values

    autocast = _autocast(config.precision, device)
    model.train()
    started, order, order_epoch = time.perf_counter(), [], -1
    for step in range(start_step, total_steps):
        epoch, position = divmod(step, steps_per_epoch)
        if epoch != order_epoch:
            order, order_epoch = epoch_order(len(training_set), config.seed, epoch), epoch
        global_batch = order[position * config.global_batch_size : (position + 1) * config.global_batch_size]
        # Each process takes every world.size-th example; each example's loss is weighted by
        # its share of the global batch, so summing gradients over processes gives the mean.
        local_batch = global_batch[world.rank :: world.size]
        lr = learning_rate_at(step, total_steps, config.warmup_steps, config.learning_rate)
        for group in optimizer.param_groups:
            group["lr"] = lr

        optimizer.zero_grad(set_to_none=False)
        step_loss = torch.zeros((), device=device)
        # Cut from the local batch sorted by length: the same examples and weights, less padding.
        local_examples = [example(row) for row in local_batch]
        for micro_batch in model.length_sorted_batches(local_examples, config.micro_batch_size):
            with autocast:
                loss = model(micro_batch)
            share = len(micro_batch["labels"]) / len(global_batch)
            (loss * share).backward()
            step_loss += loss.detach().float() * share
        if world.size > 1:
            _sum_across_processes(model.adapter.parameters(), step_loss)
        grad_norm = torch.nn.utils.clip_grad_norm_(
            model.adapter.parameters(), config.max_grad_norm or float("inf")
        ).item()
        optimizer.step()
        model.adapter.update_center(_summed_across_processes if world.size > 1 else None)

        elapsed = time.perf_counter() - started
        done = step + 1
        history.append(
            {"step": done, "epoch": epoch + 1, "loss": step_loss.item(), "lr": lr, "grad_norm": grad_norm}
            | monitored(done)
        )
        if world.is_main:
            examples_per_s = (done - start_step) * config.global_batch_size / elapsed
            log.info(
                "step %d/%d epoch %d loss %.4f lr %.2e (%.2f examples/s)",
                done,
                total_steps,
                epoch + 1,
                step_loss.item(),
                lr,
                examples_per_s,
            )
        checkpoint_due = config.checkpoint_every and done % config.checkpoint_every == 0 and done < total_steps
        if checkpoint_dir is not None and checkpoint_due:
            save_checkpoint(checkpoint_dir, done, model, optimizer, history, config.keep_checkpoints, world)
    model.eval()
    return pd.DataFrame(history, columns=LOG_COLUMNS)


def _with_cached_features(targets: pd.DataFrame, store: FeatureStore, required: bool = True) -> pd.DataFrame:
    missing = ~targets["clip_ids"].map(lambda clips: all(clip in store for clip in clips))
    if missing.any():
        log.warning("dropping %d targets whose clip has no cached features", int(missing.sum()))
        targets = targets[~missing].reset_index(drop=True)
    if required and targets.empty:
        raise ValueError("no training examples: check the targets and the feature cache")
    return targets


def _autocast(precision: str, device: torch.device):
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"training.precision must be auto, bf16 or fp32, got {precision!r}")
    use_bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16) if use_bf16 else nullcontext()


def _sum_across_processes(parameters, step_loss: torch.Tensor) -> None:
    """One all-reduce of every gradient (and the loss) per optimizer step, as DDP does with
    gradient accumulation; done by hand because a process may hold none of a short last batch."""
    grads = [p.grad for p in parameters]
    flat = torch.cat([g.reshape(-1) for g in grads] + [step_loss.reshape(1)])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()
    step_loss.copy_(flat[-1])


def _summed_across_processes(tensor: torch.Tensor) -> torch.Tensor:
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


# Checkpoints -------------------------------------------------------------------------------


def save_checkpoint(
    directory: Path,
    step: int,
    model: AudioLLM,
    optimizer: torch.optim.Optimizer,
    history: Sequence[Mapping[str, Any]],
    keep: int,
    world: World = World(),
) -> None:
    """Write ``step-<n>.pt`` atomically (temporary name, then rename); keep the newest ``keep``.

    Every process keeps the same adapter and optimizer, so the main one writes them; each
    process's random-number state (dropout) is gathered into the checkpoint.
    """
    rng_states = _gather(_rng_state(), world)
    if world.is_main:
        directory.mkdir(parents=True, exist_ok=True)
        state = {
            "step": step,
            "adapter": model.adapter.state_dict(),
            "optimizer": optimizer.state_dict(),
            "history": list(history),
            "rng": rng_states,
            "world_size": world.size,
        }
        path = directory / f"{CHECKPOINT_PREFIX}{step:08d}.pt"
        temporary = path.with_name(f".{path.name}.partial")
        torch.save(state, temporary)
        os.replace(temporary, path)
        for stale in _checkpoints(directory)[:-keep] if keep > 0 else []:
            stale.unlink()
        log.info("checkpoint: %s", path)
    if world.size > 1:
        dist.barrier()


def resume_from_checkpoint(
    directory: Path, model: AudioLLM, optimizer: torch.optim.Optimizer, world: World = World()
) -> tuple[int, list[dict[str, Any]]]:
    """Load the newest readable checkpoint; return its step and loss log (0 and [] if none)."""
    for path in reversed(_checkpoints(directory)):
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except (OSError, RuntimeError, EOFError) as error:
            log.warning("skipping unreadable checkpoint %s: %s", path, error)
            continue
        if state["world_size"] != world.size:
            raise ValueError(
                f"{path} was written by {state['world_size']} processes; resume it with as many, not {world.size}"
            )
        model.adapter.load_state_dict(state["adapter"])
        optimizer.load_state_dict(state["optimizer"])
        _set_rng_state(state["rng"][world.rank])
        log.info("resuming from %s", path)
        return state["step"], list(state["history"])
    return 0, []


def _checkpoints(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{CHECKPOINT_PREFIX}*.pt")) if directory.is_dir() else []


def _rng_state() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def _set_rng_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def _gather(state: dict[str, Any], world: World) -> list[dict[str, Any]]:
    if world.size == 1:
        return [state]
    gathered: list[Any] = [None] * world.size
    dist.all_gather_object(gathered, state)
    return gathered
