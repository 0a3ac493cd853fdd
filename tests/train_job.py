"""A small training run on the tiny random Llama, as a process of its own: tests kill it,
resume it, or start it under torchrun.

    python tests/train_job.py LLM_DIR OUT_DIR [--checkpoints DIR] [--slow-s S] [--dropout P]

Writes OUT_DIR/adapter.safetensors and OUT_DIR/loss.csv (the main process only).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save_file

from balsa_core.backbones import load_llm
from balsa_core.logs import setup_logging
from balsa_core.training import TrainingConfig, World, train_adapter
from tiny_models import replay_training_set, tiny_audio_llm

CLIPS = 12
TARGETS = ["a siren wails", "rain falls on a roof", "a dog barks twice", "birds chirp", "an engine hums", "a bell"]


class SlowStore(dict):
    """Features by clip id; reading one can be slowed so that a test can kill a run midway."""

    def __init__(self, features: dict[str, torch.Tensor], delay_s: float) -> None:
        super().__init__(features)
        self.delay_s = delay_s

    def get(self, clip_id: str) -> torch.Tensor:
        time.sleep(self.delay_s)
        return self[clip_id]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("llm", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--checkpoints", type=Path)
    parser.add_argument("--slow-s", type=float, default=0.0)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()

    setup_logging()
    world = World.from_environment()
    if world.size > 1:
        dist.init_process_group("gloo")
    torch.set_num_threads(1)
    llm, tokenizer = load_llm(str(args.llm))
    data = torch.Generator().manual_seed(0)
    features = {f"clip{i}": torch.randn(2, 5 + i % 4, 32, generator=data).half() for i in range(CLIPS)}
    training_set = replay_training_set(features, [TARGETS[i % len(TARGETS)] for i in range(CLIPS)])
    torch.manual_seed(0)
    model = tiny_audio_llm(llm, tokenizer, dropout=args.dropout)
    config = TrainingConfig(
        epochs=args.epochs,
        learning_rate=3e-3,
        micro_batch_size=2,
        global_batch_size=4,
        warmup_steps=2,
        checkpoint_every=3,
        keep_checkpoints=2,
    )
    history = train_adapter(model, training_set, SlowStore(features, args.slow_s), config, args.checkpoints, world)
    if world.is_main:
        args.out.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.adapter.state_dict().items()}, args.out / "adapter.safetensors")
        history.to_csv(args.out / "loss.csv", index=False)
    if world.size > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
