"""Benchmark: batched vs one-at-a-time target generation with the transformers backend on CPU.

Loads the bundled SmolLM2-135M-Instruct backbone once and generates greedy completions for the
same Equation 1 prompts ("[Begin of audio] <caption or tags> [End of audio] Replay the audio."
and the negative "... Identify sounds that are absent as contrasting examples.") twice: in
left-padded batches of --batch-size, and with batch_size=1. Prints generated tokens per second
(counted up to end-of-turn, so padding and tokens past a row's end do not count) for both modes
and their ratio. It reports what it measured and asserts no threshold.

    .venv/bin/python scripts/bench_generation.py
    .venv/bin/python scripts/bench_generation.py --prompts 64 --batch-size 48 --threads 2
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from balsa_core.backbones import reuse_or_prepare_model
from balsa_core.demo.corpus import EVENT_CLASSES, caption_for
from balsa_core.generation.backend import Completion, SamplingSettings
from balsa_core.generation.transformers_backend import TransformersBackend
from balsa_core.prompts import PromptTemplate

SOURCE = "bundled:smollm2-135m-instruct"
INSTRUCTIONS = ("Replay the audio.", "Identify sounds that are absent as contrasting examples.")
WARMUP_PROMPTS = 4
WARMUP_TOKENS = 8


@dataclass(frozen=True)
class Run:
    mode: str
    batch_size: int
    prompts: int
    tokens: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def prompts_per_second(self) -> float:
        return self.prompts / self.seconds


def seed_texts(count: int, seed: int = 0) -> list[str]:
    """Demo-corpus-like seeds: AudioCaps-style captions alternating with ESC-50-style tag lists."""
    rng = np.random.default_rng(seed)
    seeds = []
    for index in range(count):
        chosen = rng.choice(len(EVENT_CLASSES), size=int(rng.integers(1, 4)), replace=False)
        classes = [EVENT_CLASSES[i] for i in chosen]
        if index % 2 == 0:
            seeds.append(caption_for([c.phrase for c in classes], template=int(rng.integers(0, 3))))
        else:
            seeds.append(", ".join(c.tag for c in classes))
    return seeds


def user_messages(count: int) -> list[str]:
    template = PromptTemplate()
    # Pairing instruction with index // 2 gives both instructions captions and tag lists alike.
    return [
        template.user_message([seed], INSTRUCTIONS[(index // 2) % 2]) for index, seed in enumerate(seed_texts(count))
    ]


def timed(
    backend: TransformersBackend, messages: list[str], settings: SamplingSettings
) -> tuple[float, list[Completion]]:
    started = time.perf_counter()
    completions = backend.generate(messages, settings)
    return time.perf_counter() - started, completions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument(
        "--models-dir", type=Path, default=Path("models"), help="holds the pipeline's llm.json (default: models)"
    )
    args = parser.parse_args()

    cpu_count = os.cpu_count() or 1
    torch.set_num_threads(args.threads or cpu_count)

    started = time.perf_counter()
    path = reuse_or_prepare_model("llm", SOURCE, args.models_dir, "bench-llm.json")
    # One backend for both modes: batch_size is read on every generate() call, so changing it
    # between runs switches the mode without loading the weights twice.
    backend = TransformersBackend(path, batch_size=args.batch_size)
    print(f"model {path} ready in {time.perf_counter() - started:.1f} s")
    print(f"torch threads {torch.get_num_threads()}, CPU count {cpu_count}")

    messages = user_messages(args.prompts)
    settings = SamplingSettings(max_new_tokens=args.max_new_tokens, temperature=0.0)

    # The first calls pay for lazy initialisation (kernels, allocator, chat template); keep it
    # out of whichever mode happens to run first.
    warmup = SamplingSettings(max_new_tokens=WARMUP_TOKENS, temperature=0.0)
    for batch_size in (args.batch_size, 1):
        backend.batch_size = batch_size
        backend.generate(messages[:WARMUP_PROMPTS], warmup)

    runs, outputs = [], {}
    for mode, batch_size in (("batched", args.batch_size), ("single", 1)):
        backend.batch_size = batch_size
        seconds, completions = timed(backend, messages, settings)
        tokens = sum(c.num_tokens or 0 for c in completions)
        runs.append(Run(mode, batch_size, len(completions), tokens, seconds))
        outputs[mode] = completions

    print()
    print(f"{'mode':<8} {'batch':>5} {'prompts':>7} {'tokens':>7} {'seconds':>8} {'tokens/s':>9} {'prompts/s':>9}")
    for run in runs:
        print(
            f"{run.mode:<8} {run.batch_size:>5} {run.prompts:>7} {run.tokens:>7} {run.seconds:>8.2f} "
            f"{run.tokens_per_second:>9.1f} {run.prompts_per_second:>9.2f}"
        )
    batched, single = runs
    print(f"\nbatched/single tokens/s: {batched.tokens_per_second / single.tokens_per_second:.2f}x")
    # Left padding changes float rounding, so greedy decoding may diverge; a token count that
    # differs between modes means the two modes did not do exactly the same work.
    same_text = sum(a.text == b.text for a, b in zip(outputs["batched"], outputs["single"]))
    same_tokens = "yes" if batched.tokens == single.tokens else "no"
    print(f"same total tokens in both modes: {same_tokens}; identical completions: {same_text}/{len(messages)}")


if __name__ == "__main__":
    main()
