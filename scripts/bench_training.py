"""Training throughput of the adapter on the bundled backbones, against this machine's matmul peak.

    .venv/bin/python scripts/bench_training.py [--examples 48] [--threads N]

In one run: the peak FLOP/s of a large fp32 matrix multiplication on this machine; then adapter
training (frozen SmolLM2-135M-Instruct, Whisper tiny.en features of real demo-corpus clips,
micro batch 8, global batch 16) as the pipeline runs it, timed in examples per second; the
FLOPs of one training step counted by ``torch.utils.flop_counter`` (the forward through the
frozen LLM and adapter, and the backward that carries gradients through the LLM to the
adapter); and the achieved FLOP/s as a share of the peak.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio import load_audio
from balsa_core.audio_llm import AudioLLM, Example
from balsa_core.backbones import ModelManifest, load_encoder, load_llm, prepare_model
from balsa_core.demo_corpus import DemoCorpusConfig, generate_demo_corpus
from balsa_core.features import encode_waveforms
from balsa_core.prompts import PromptTemplate
from balsa_core.training import TrainingConfig, train_adapter

LAYERS = [2, 3, 4]
TARGETS = [
    "A dog barks repeatedly while rain falls steadily in the background.",
    "Absent sounds: a car horn, church bells and birds chirping.",
    "An engine hums and a siren wails in the distance.",
    "Sounds not present: thunder, a crying baby and footsteps.",
]


def matmul_peak_flops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up: thread pools and caches
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def model_path(role: str, source: str, models_dir: Path) -> str:
    manifest = models_dir / f"{role}.json"
    if not manifest.exists() or ModelManifest.read(manifest).source != source:
        manifest = models_dir / f"bench-{role}.json"
        prepare_model(role, source, manifest)
    return ModelManifest.read(manifest).path


class MemoryStore(dict):
    get = dict.__getitem__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=48)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)

    llm, tokenizer = load_llm(model_path("llm", "bundled:smollm2-135m-instruct", args.models_dir))
    encoder, feature_extractor = load_encoder(model_path("encoder", "bundled:whisper-tiny.en", args.models_dir))
    with tempfile.TemporaryDirectory() as corpus_dir:
        generate_demo_corpus(DemoCorpusConfig(n_clips=args.examples, seed=7), Path(corpus_dir))
        clips = sorted((Path(corpus_dir) / "esc50" / "audio").glob("*.wav"))
        clips += sorted((Path(corpus_dir) / "audiocaps" / "audio").glob("*.wav"))
        waveforms = [load_audio(path) for path in clips[: args.examples]]
    features = {}
    for start in range(0, len(waveforms), 16):
        for offset, hidden in enumerate(
            encode_waveforms(encoder, feature_extractor, waveforms[start : start + 16], LAYERS)
        ):
            features[f"clip{start + offset}"] = hidden.half()
    training_set = pd.DataFrame(
        {
            "clip_ids": [[clip] for clip in features],
            "instruction": ["Replay the audio."] * len(features),
            "target": [TARGETS[i % len(TARGETS)] for i in range(len(features))],
        }
    )
    adapter_config = AdapterConfig(
        encoder_dim=encoder.config.d_model,
        llm_dim=llm.config.hidden_size,
        num_encoder_layers=len(LAYERS),
        num_queries=64,
    )
    torch.manual_seed(0)
    model = AudioLLM(llm, tokenizer, QFormerAdapter(adapter_config), PromptTemplate(), max_target_tokens=32)
    config = TrainingConfig(epochs=1, learning_rate=1e-4, micro_batch_size=8, global_batch_size=16, warmup_steps=1)

    store = MemoryStore(features)
    micro_batch = model.collate(
        [Example([store.get(c)], i, t) for (c,), i, t in training_set.head(8).itertuples(index=False)]
    )
    with FlopCounterMode(display=False) as counter:
        model.train()
        model(micro_batch).backward()
    flops_per_example = counter.get_total_flops() / 8
    model.adapter.zero_grad(set_to_none=True)

    peak = matmul_peak_flops()
    started = time.perf_counter()
    train_adapter(model, training_set, store, config)
    seconds = time.perf_counter() - started
    examples_per_s = len(training_set) / seconds
    achieved = examples_per_s * flops_per_example

    adapter_parameters = sum(p.numel() for p in model.adapter.parameters())
    llm_parameters = sum(p.numel() for p in llm.parameters())
    print(f"torch threads {torch.get_num_threads()}, adapter {adapter_parameters:,}, LLM {llm_parameters:,}")
    print(f"fp32 matmul peak (2048^3):      {peak / 1e9:8.1f} GFLOP/s")
    print(f"training examples:              {len(training_set)} in {seconds:.1f} s = {examples_per_s:.2f} examples/s")
    print(f"counted FLOPs per example:      {flops_per_example / 1e9:8.2f} GFLOP (forward + backward)")
    tokens = micro_batch["input_ids"].shape[1]
    print(f"tokens per example (counted):   {tokens} (the micro batch padded, audio slots included)")
    print(f"achieved:                       {achieved / 1e9:8.1f} GFLOP/s = {100 * achieved / peak:.1f}% of the peak")


if __name__ == "__main__":
    main()
