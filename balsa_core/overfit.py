"""The overfit check: the whole chain (cached features -> adapter -> frozen LLM) must be able to
memorise a handful of clips before anything it does at scale means something.

A few clips, each with a short target of its own (its class name), are trained on as one global
batch through the project's own training loop until the loss is near zero; then each clip is
asked the training instruction and must answer with its own target. An adapter that cannot do
this, or that gives every clip the same answer, ignores the audio (see ``monitor``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import torch

from balsa_core.audio_llm import AudioLLM, Example
from balsa_core.training import TrainingConfig, train_adapter


@dataclass(frozen=True)
class OverfitResult:
    losses: list[float]  # per step
    answers: dict[str, str]  # clip -> greedy reply after training
    targets: dict[str, str]  # clip -> its target
    target_loss: float

    @property
    def steps_to_target(self) -> int | None:
        """The first step whose loss is below ``target_loss`` (None: never)."""
        return next((step for step, loss in enumerate(self.losses, start=1) if loss < self.target_loss), None)

    @property
    def named(self) -> list[str]:
        """Clips whose reply contains their own target."""
        return [clip for clip, reply in self.answers.items() if self.targets[clip].lower() in reply.lower()]

    @property
    def passed(self) -> bool:
        return self.steps_to_target is not None and len(self.named) == len(self.targets)


def overfit(
    model: AudioLLM,
    features: Mapping[str, torch.Tensor],
    targets: Mapping[str, str],
    instruction: str,
    steps: int,
    learning_rate: float = 1e-3,
    target_loss: float = 0.05,
    max_new_tokens: int = 8,
) -> OverfitResult:
    """Train ``model.adapter`` on every clip of ``features`` (each ``[layers, frames, dim]``) with
    its ``targets`` entry for ``steps`` full-batch steps, then ask each clip ``instruction``."""
    clips = sorted(targets)
    training_set = pd.DataFrame(
        {"clip_ids": [[clip] for clip in clips], "instruction": instruction, "target": [targets[c] for c in clips]}
    )
    config = TrainingConfig(
        epochs=steps,
        learning_rate=learning_rate,
        micro_batch_size=len(clips),
        global_batch_size=len(clips),
        warmup_steps=max(1, steps // 10),
    )
    history = train_adapter(model, training_set, _Features(features), config)
    replies = model.generate_batch(
        [Example(features=[features[clip]], instruction=instruction) for clip in clips], max_new_tokens
    )
    return OverfitResult(
        losses=history["loss"].tolist(),
        answers=dict(zip(clips, replies)),
        targets={clip: targets[clip] for clip in clips},
        target_loss=target_loss,
    )


class _Features(dict):
    """In-memory features with the feature store's interface."""

    get = dict.__getitem__
