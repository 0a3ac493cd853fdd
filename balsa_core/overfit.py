"""The overfit check: the whole chain (cached features -> adapter -> frozen LLM) must be able to
memorise a handful of clips before anything it does at scale means something.

A few clips, each with a short target of its own (its class name), are trained on through the
project's own training loop until the loss is near zero; then each clip is asked the training
instruction and must answer with its own target. An adapter that cannot do this, or that gives
every clip the same answer, ignores the audio (see ``monitor``). Given held-out clips of the same
classes, the same run also says whether what was learned carries to audio never trained on: their
loss is logged as the validation loss, and they are asked the instruction too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import torch

from balsa_core.audio_llm import AudioLLM, Example
from balsa_core.training import TrainingConfig, train_adapter


@dataclass(frozen=True)
class OverfitResult:
    history: pd.DataFrame  # the training log (training.LOG_COLUMNS)
    answers: dict[str, str]  # clip -> greedy reply after training
    targets: dict[str, str]  # clip -> its target
    target_loss: float
    held_out_answers: dict[str, str] = field(default_factory=dict)
    held_out_targets: dict[str, str] = field(default_factory=dict)

    @property
    def losses(self) -> list[float]:
        return self.history["loss"].tolist()

    @property
    def steps_to_target(self) -> int | None:
        """The first step whose loss is below ``target_loss`` (None: never)."""
        return next((step for step, loss in enumerate(self.losses, start=1) if loss < self.target_loss), None)

    @property
    def named(self) -> list[str]:
        """Training clips whose reply contains their own target."""
        return _named(self.answers, self.targets)

    @property
    def held_out_named(self) -> list[str]:
        return _named(self.held_out_answers, self.held_out_targets)

    @property
    def passed(self) -> bool:
        return self.steps_to_target is not None and len(self.named) == len(self.targets)


def _named(answers: Mapping[str, str], targets: Mapping[str, str]) -> list[str]:
    return [clip for clip, reply in answers.items() if targets[clip].lower() in reply.lower()]


def overfit(
    model: AudioLLM,
    features: Mapping[str, torch.Tensor],
    targets: Mapping[str, str],
    instruction: str,
    steps: int,
    learning_rate: float = 1e-3,
    target_loss: float = 0.05,
    max_new_tokens: int = 8,
    global_batch_size: int | None = None,
    held_out: Mapping[str, str] | None = None,
    eval_every: int = 0,
) -> OverfitResult:
    """Train ``model.adapter`` on the clips of ``targets`` (features in ``features``, each
    ``[layers, frames, dim]``) for about ``steps`` steps of ``global_batch_size`` examples (all
    clips by default; whole epochs, a tenth of the steps warming up), then ask each clip
    ``instruction``. ``held_out`` (clip -> target, features in ``features``) never trains: its
    loss is the log's validation loss and its clips are asked too."""
    clips = sorted(targets)
    batch = global_batch_size or len(clips)
    steps_per_epoch = math.ceil(len(clips) / batch)
    config = TrainingConfig(
        epochs=max(1, round(steps / steps_per_epoch)),
        learning_rate=learning_rate,
        micro_batch_size=min(batch, 16),
        global_batch_size=batch,
        warmup_steps=max(1, steps // 10),
        eval_every=eval_every,
    )
    held_out = dict(held_out or {})
    history = train_adapter(
        model,
        _training_table(targets, instruction),
        _Features(features),
        config,
        validation_set=_training_table(held_out, instruction) if held_out else None,
    )
    return OverfitResult(
        history=history,
        answers=_ask(model, features, clips, instruction, max_new_tokens),
        targets={clip: targets[clip] for clip in clips},
        target_loss=target_loss,
        held_out_answers=_ask(model, features, sorted(held_out), instruction, max_new_tokens),
        held_out_targets=held_out,
    )


def _training_table(targets: Mapping[str, str], instruction: str) -> pd.DataFrame:
    clips = sorted(targets)
    return pd.DataFrame(
        {"clip_ids": [[clip] for clip in clips], "instruction": instruction, "target": [targets[c] for c in clips]}
    )


def _ask(
    model: AudioLLM, features: Mapping[str, torch.Tensor], clips: list[str], instruction: str, max_new_tokens: int
) -> dict[str, str]:
    if not clips:
        return {}
    examples = [Example(features=[features[clip]], instruction=instruction) for clip in clips]
    return dict(zip(clips, model.generate_batch(examples, max_new_tokens)))


class _Features(dict):
    """In-memory features with the feature store's interface."""

    get = dict.__getitem__
