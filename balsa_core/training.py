"""Train the adapter on the backbone's own targets: next-token loss on the target tokens,
Adam, linear warmup then cosine annealing, global batch through gradient accumulation."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import torch

from balsa_core.audio_llm import AudioLLM, Example
from balsa_core.features import FeatureStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int
    learning_rate: float
    micro_batch_size: int = 8
    global_batch_size: int = 16
    warmup_steps: int = 2000
    max_target_tokens: int = 256
    seed: int = 0


def select_training_targets(targets: pd.DataFrame, mix: Mapping[str, int]) -> pd.DataFrame:
    """The training set of one variant: per training seed (or pair), ``mix[set]`` samples of
    each target set."""
    wanted = targets["target_set"].map(dict(mix)).fillna(0)
    chosen = targets[(targets["split"] == "train") & (targets["sample_index"] < wanted)]
    empty = chosen["target"].fillna("").str.strip() == ""
    if empty.any():
        log.warning("dropping %d empty targets", int(empty.sum()))
    return chosen[~empty].sort_values("target_id").reset_index(drop=True)


def learning_rate_at(step: int, total_steps: int, warmup_steps: int, peak: float) -> float:
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train_adapter(
    model: AudioLLM, training_set: pd.DataFrame, store: FeatureStore, config: TrainingConfig
) -> pd.DataFrame:
    """Train ``model.adapter`` in place; return the per-step loss log."""
    missing = ~training_set["clip_ids"].map(lambda clips: all(clip in store for clip in clips))
    if missing.any():
        log.warning("dropping %d targets whose clip has no cached features", int(missing.sum()))
        training_set = training_set[~missing].reset_index(drop=True)
    if training_set.empty:
        raise ValueError("no training examples: check the targets and the feature cache")

    torch.manual_seed(config.seed)
    shuffler = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.adapter.parameters(), lr=config.learning_rate)
    steps_per_epoch = math.ceil(len(training_set) / config.global_batch_size)
    total_steps = config.epochs * steps_per_epoch
    log.info(
        "training on %d examples: %d epochs x %d steps, global batch %d (micro %d)",
        len(training_set),
        config.epochs,
        steps_per_epoch,
        config.global_batch_size,
        config.micro_batch_size,
    )

    def example(row: int) -> Example:
        record = training_set.iloc[row]
        return Example(
            features=[store.get(clip) for clip in record["clip_ids"]],
            instruction=record["instruction"],
            target=record["target"],
        )

    model.train()
    history, step, examples_seen, started = [], 0, 0, time.perf_counter()
    for epoch in range(config.epochs):
        order = torch.randperm(len(training_set), generator=shuffler).tolist()
        for start in range(0, len(order), config.global_batch_size):
            global_batch = order[start : start + config.global_batch_size]
            lr = learning_rate_at(step, total_steps, config.warmup_steps, config.learning_rate)
            for group in optimizer.param_groups:
                group["lr"] = lr

            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            for micro_start in range(0, len(global_batch), config.micro_batch_size):
                micro_batch = global_batch[micro_start : micro_start + config.micro_batch_size]
                loss = model(model.collate([example(row) for row in micro_batch]))
                # Weight each micro batch by its share so the step is the mean over the global batch.
                (loss * len(micro_batch) / len(global_batch)).backward()
                step_loss += loss.item() * len(micro_batch) / len(global_batch)
            grad_norm = torch.nn.utils.clip_grad_norm_(model.adapter.parameters(), 1.0).item()
            optimizer.step()

            step += 1
            examples_seen += len(global_batch)
            elapsed = time.perf_counter() - started
            history.append(
                {
                    "step": step,
                    "epoch": epoch + 1,
                    "loss": step_loss,
                    "lr": lr,
                    "grad_norm": grad_norm,
                    "elapsed_s": elapsed,
                }
            )
            log.info(
                "step %d/%d epoch %d loss %.4f lr %.2e (%.2f examples/s)",
                step,
                total_steps,
                epoch + 1,
                step_loss,
                lr,
                examples_seen / elapsed,
            )
    model.eval()
    return pd.DataFrame(history)
