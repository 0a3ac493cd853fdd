"""Adapter training throughput: today's step against the new one, side by side, on the same examples.

    .venv/bin/python scripts/bench_training.py [--examples 48] [--repeats 2] [--threads 1] [--system-message TEXT]

The setup is the pipeline's: frozen SmolLM2-135M-Instruct, Whisper tiny.en features of real
demo-corpus clips, the demo's two instructions (positive and negative) in turn, micro batch 8,
global batch 16, Adam with gradient clipping. Two steps are compared:

* today's step (the baseline, carried here since the library no longer needs it): micro batches
  cut in order and right padded, the whole sequence through the LLM and the LM head at every
  position;
* the new step (``AudioLLM.length_sorted_batches`` and ``AudioLLM.forward``, what
  ``train_adapter`` runs): micro batches cut from the length-sorted global batch, the shared
  prompt prefix from a key/value cache computed once, the LM head only on target positions.

In one run it prints the largest difference of both steps' per-example losses (dropout off), with
both whole models in fp64 (the same math: equal to rounding) and as trained, in fp32;
the FLOPs per example counted by ``torch.utils.flop_counter`` (forward and the backward that
carries gradients through the frozen LLM to the adapter) and the tokens per example; and the
examples per second of both, timed step by step in turn on the same global batch (today's, the
new one, the new one, today's: the best of each kind counts) so that load from other jobs on the
machine hits both alike; and their ratio, also against this machine's fp32 matmul peak.
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio import load_audio
from balsa_core.audio_llm import IGNORE_INDEX, AudioLLM, Example, shared_prefix_length
from balsa_core.backbones import load_encoder, load_llm, reuse_or_prepare_model
from balsa_core.demo.corpus import DemoCorpusConfig, generate_demo_corpus
from balsa_core.features import encode_waveforms
from balsa_core.prompts import PromptTemplate

LAYERS = [2, 3, 4]
MICRO_BATCH, GLOBAL_BATCH = 8, 16
INSTRUCTIONS = ["Replay the audio.", "Identify sounds that are absent as contrasting examples."]
TARGETS = [
    "A dog barks repeatedly while rain falls steadily in the background.",
    "Absent sounds: a car horn, church bells and birds chirping.",
    "An engine hums and a siren wails in the distance.",
    "Sounds not present: thunder, a crying baby and footsteps.",
]

Batch = dict[str, torch.Tensor]
LossFn = Callable[[AudioLLM, Batch], torch.Tensor]


def matmul_peak_flops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up: thread pools and caches
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def todays_loss(model: AudioLLM, batch: Batch, exact_cross_entropy: bool = False) -> torch.Tensor:
    """Today's per-example loss: the padded sequence through the LLM, logits at every position.

    ``exact_cross_entropy`` takes its log-softmax in fp64: fp32 over a 49K vocabulary laid out
    as dimension 1 (as today's step does) rounds by up to ~2e-4 per token on CPU.
    """
    logits = model.llm(inputs_embeds=model.embed(batch), attention_mask=batch["attention_mask"]).logits
    logits = logits[:, :-1].double() if exact_cross_entropy else logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    token_losses = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=IGNORE_INDEX, reduction="none")
    counted = (labels != IGNORE_INDEX).to(token_losses.dtype)
    return (token_losses * counted).sum(dim=1) / counted.sum(dim=1).clamp(min=1)


def new_loss(model: AudioLLM, batch: Batch) -> torch.Tensor:
    return model.per_example_loss(batch)


def todays_batches(model: AudioLLM, examples: Sequence[Example]) -> list[Batch]:
    return [model.collate(examples[start : start + MICRO_BATCH]) for start in range(0, len(examples), MICRO_BATCH)]


def new_batches(model: AudioLLM, examples: Sequence[Example]) -> list[Batch]:
    return model.length_sorted_batches(examples, MICRO_BATCH)


def backward(model: AudioLLM, batches: Sequence[Batch], loss_fn: LossFn, examples: int) -> None:
    """Gradients of one global batch: each micro batch's mean loss weighted by its share."""
    for batch in batches:
        (loss_fn(model, batch).mean() * len(batch["labels"]) / examples).backward()


def train_step(
    model: AudioLLM,
    optimizer: torch.optim.Optimizer,
    examples: Sequence[Example],
    cut: Callable[[AudioLLM, Sequence[Example]], list[Batch]],
    loss_fn: LossFn,
) -> float:
    """One optimizer step as ``train_adapter`` takes it; returns its seconds."""
    started = time.perf_counter()
    optimizer.zero_grad(set_to_none=False)
    backward(model, cut(model, examples), loss_fn, len(examples))
    torch.nn.utils.clip_grad_norm_(model.adapter.parameters(), 1.0)
    optimizer.step()
    return time.perf_counter() - started


def flops_per_example(model: AudioLLM, batches: Sequence[Batch], loss_fn: LossFn, examples: int) -> float:
    with FlopCounterMode(display=False) as counter:
        backward(model, batches, loss_fn, examples)
    model.adapter.zero_grad(set_to_none=True)
    return counter.get_total_flops() / examples


@torch.no_grad()
def per_example_losses(model: AudioLLM, examples: Sequence[Example], loss_fn: LossFn) -> torch.Tensor:
    model.eval()
    dtype = next(model.adapter.parameters()).dtype
    batches = [{**batch, "features": batch["features"].to(dtype)} for batch in todays_batches(model, examples)]
    losses = torch.cat([loss_fn(model, batch).double() for batch in batches])
    model.train()
    return losses


def in_float64(model: AudioLLM) -> AudioLLM:
    """An fp64 copy: both steps' losses compared without fp32 rounding in either."""
    return AudioLLM(
        copy.deepcopy(model.llm).double(),
        model.tokenizer,
        copy.deepcopy(model.adapter).double(),
        model.template,
        model.max_target_tokens,
    )


def token_counts(batches: Sequence[Batch]) -> tuple[float, float, float]:
    """Per example: padded positions, positions after the shared prefix, target positions."""
    examples = sum(len(batch["labels"]) for batch in batches)
    padded = after_prefix = 0
    for batch in batches:
        rows, length = batch["input_ids"].shape
        padded += rows * length
        after_prefix += rows * (length - shared_prefix_length(batch["input_ids"], batch["audio_mask"]))
    targets = sum(int((batch["labels"] != IGNORE_INDEX).sum()) for batch in batches)
    return padded / examples, after_prefix / examples, targets / examples


@torch.no_grad()
def prefix_flops(llm: torch.nn.Module, batch: Batch) -> float:
    """FLOPs of the shared prefix's key/value cache, which the new step computes once per run."""
    prefix = batch["input_ids"][:1, : shared_prefix_length(batch["input_ids"], batch["audio_mask"])]
    with FlopCounterMode(display=False) as counter:
        llm.base_model(input_ids=prefix)
    return counter.get_total_flops()


def demo_features(encoder, feature_extractor, count: int) -> list[torch.Tensor]:
    with tempfile.TemporaryDirectory() as corpus_dir:
        generate_demo_corpus(DemoCorpusConfig(n_clips=count, seed=7), Path(corpus_dir))
        clips = sorted((Path(corpus_dir) / "esc50" / "audio").glob("*.wav"))
        clips += sorted((Path(corpus_dir) / "audiocaps" / "audio").glob("*.wav"))
        waveforms = [load_audio(path) for path in clips[:count]]
    features = []
    for start in range(0, len(waveforms), 16):
        hidden = encode_waveforms(encoder, feature_extractor, waveforms[start : start + 16], LAYERS)
        features += [layers.half() for layers in hidden]
    return features


def build(args: argparse.Namespace) -> tuple[AudioLLM, AudioLLM, list[Example]]:
    """Today's and the new model (one frozen LLM, equal adapters) and the examples."""
    llm, tokenizer = load_llm(
        reuse_or_prepare_model("llm", "bundled:smollm2-135m-instruct", args.models_dir, "bench-llm.json")
    )
    encoder, feature_extractor = load_encoder(
        reuse_or_prepare_model("encoder", "bundled:whisper-tiny.en", args.models_dir, "bench-encoder.json")
    )
    examples = [
        Example([clip], INSTRUCTIONS[(index // 2) % 2], TARGETS[index % len(TARGETS)])
        for index, clip in enumerate(demo_features(encoder, feature_extractor, args.examples))
    ]
    adapter_config = AdapterConfig(
        encoder_dim=encoder.config.d_model,
        llm_dim=llm.config.hidden_size,
        num_encoder_layers=len(LAYERS),
        num_queries=64,
    )
    torch.manual_seed(0)
    template = PromptTemplate(system_message=args.system_message)
    today = AudioLLM(llm, tokenizer, QFormerAdapter(adapter_config), template, max_target_tokens=32).train()
    new = AudioLLM(llm, tokenizer, copy.deepcopy(today.adapter), template, max_target_tokens=32).train()
    return today, new, examples


def time_steps(
    today: AudioLLM, new: AudioLLM, global_batches: Sequence[Sequence[Example]], repeats: int
) -> list[float]:
    """Per global batch, the best seconds of today's step and of the new one's over ``repeats``
    steps each, taken in turn (today, new, new, today, ...): a burst of load from other jobs
    then slows one step of each, and the best of each pair is the least disturbed."""
    optimizers = [torch.optim.Adam(model.adapter.parameters(), lr=1e-4) for model in (today, new)]
    steps = [(today, optimizers[0], todays_batches, todays_loss), (new, optimizers[1], new_batches, new_loss)]
    seconds = []
    for batch in global_batches:
        best = [float("inf"), float("inf")]
        for repeat in range(repeats):
            for which in (0, 1) if repeat % 2 == 0 else (1, 0):
                model, optimizer, cut, loss_fn = steps[which]
                best[which] = min(best[which], train_step(model, optimizer, batch, cut, loss_fn))
        seconds += best
    return seconds


@dataclass
class Figures:
    """What the run measured; per pair, today's step first."""

    parameters: tuple[int, int]  # adapter, LLM
    peak: float
    tokens: tuple[tuple[float, float, float], tuple[float, float, float]]
    flops: tuple[float, float]
    seconds: list[float]  # today's and the new step's best, alternating, per global batch
    examples: int
    prefix_flops: float
    losses: dict[str, torch.Tensor]

    def rates(self) -> tuple[float, float]:
        return self.examples / sum(self.seconds[0::2]), self.examples / sum(self.seconds[1::2])


def measure(today: AudioLLM, new: AudioLLM, examples: Sequence[Example], repeats: int) -> Figures:
    global_batches = [examples[start : start + GLOBAL_BATCH] for start in range(0, len(examples), GLOBAL_BATCH)]
    losses = {
        "today": per_example_losses(today, examples, todays_loss),
        "exact": per_example_losses(today, examples, lambda m, b: todays_loss(m, b, exact_cross_entropy=True)),
        "new": per_example_losses(new, examples, new_loss),
    }
    today64, new64 = in_float64(today), in_float64(new)
    losses["today_fp64"] = per_example_losses(
        today64, examples, lambda m, b: todays_loss(m, b, exact_cross_entropy=True)
    )
    losses["new_fp64"] = per_example_losses(new64, examples, new_loss)
    del today64, new64
    first = global_batches[0]
    flops = (
        flops_per_example(today, todays_batches(today, first), todays_loss, len(first)),
        flops_per_example(new, new_batches(new, first), new_loss, len(first)),
    )
    tokens = tuple(
        token_counts([b for batch in global_batches for b in cut(model, batch)])
        for model, cut in ((today, todays_batches), (new, new_batches))
    )
    return Figures(
        parameters=(sum(p.numel() for p in today.adapter.parameters()), sum(p.numel() for p in today.llm.parameters())),
        peak=matmul_peak_flops(),
        tokens=tokens,
        flops=flops,
        seconds=time_steps(today, new, global_batches, repeats),
        examples=len(examples),
        prefix_flops=prefix_flops(today.llm, new_batches(new, first)[0]),
        losses=losses,
    )


def report(figures: Figures, system_message: str | None) -> None:
    (padded, _, _), (new_padded, new_llm, new_head) = figures.tokens
    rates = figures.rates()
    ratios = [old / fast for old, fast in zip(figures.seconds[0::2], figures.seconds[1::2])]
    shares = [100 * rate * flops / figures.peak for rate, flops in zip(rates, figures.flops)]
    losses = figures.losses
    system = "the chat template default" if system_message is None else repr(system_message)
    print(f"torch threads {torch.get_num_threads()}, adapter {figures.parameters[0]:,}, LLM {figures.parameters[1]:,}")
    print(f"system message: {system}")
    print(f"fp32 matmul peak (2048^3):          {figures.peak / 1e9:8.1f} GFLOP/s")
    print(f"{'':36}{'today':>10}{'new':>10}")
    print(f"{'tokens per example, padded':36}{padded:10.1f}{new_padded:10.1f}")
    print(f"{'  through the LLM with gradient':36}{padded:10.1f}{new_llm:10.1f}")
    print(f"{'  through the LM head':36}{padded:10.1f}{new_head:10.1f}")
    print(f"{'GFLOP per example (fwd + bwd)':36}{figures.flops[0] / 1e9:10.2f}{figures.flops[1] / 1e9:10.2f}")
    print(f"{'examples/s':36}{rates[0]:10.3f}{rates[1]:10.3f}")
    print(f"{'  share of the matmul peak':36}{shares[0]:9.1f}%{shares[1]:9.1f}%")
    print(
        f"new / today: {rates[1] / rates[0]:.2f}x examples/s on {figures.examples} examples (per global batch "
        f"{min(ratios):.2f}x to {max(ratios):.2f}x, median {statistics.median(ratios):.2f}x), "
        f"{figures.flops[0] / figures.flops[1]:.2f}x fewer FLOPs"
    )
    print(f"shared prefix: {figures.prefix_flops / 1e9:.2f} GFLOP once per run, for its key/value cache (not above)")
    fp64_difference = (losses["new_fp64"] - losses["today_fp64"]).abs().max()
    print(f"per-example loss, both models in fp64, max |new - today|: {fp64_difference:.2e}")
    print(f"per-example loss in fp32, max |new - today|:       {(losses['new'] - losses['today']).abs().max():.2e}")
    print(f"  against today's with an fp64 cross entropy:      {(losses['new'] - losses['exact']).abs().max():.2e}")
    print(f"  today's own fp32 cross-entropy rounding (max):   {(losses['today'] - losses['exact']).abs().max():.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=48, help=f"a multiple of the global batch ({GLOBAL_BATCH})")
    # One thread, as the demo's training jobs run (threads_per_job: 1); with other jobs on the
    # cores, more threads than free cores make every op wait for its slowest thread.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="timed steps per global batch and step kind")
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--system-message", help="prompts.system_message (default: the chat template's own)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    today, new, examples = build(args)
    report(measure(today, new, examples, args.repeats), args.system_message)


if __name__ == "__main__":
    main()
