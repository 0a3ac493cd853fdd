"""The overfit check on the bundled models: can the chain memorise a handful of real clips?

    .venv/bin/python scripts/overfit_check.py [--clips-per-class 2] [--classes 4] [--steps 60]

Single-event clips of a few classes of the demo corpus are encoded by Whisper tiny.en; the
adapter (the demo's settings, initialised as the pipeline initialises it) trains on the
rule-based target, the class name, for the instruction "Describe the audio.", one full batch
per step; then every clip is asked the same instruction. Prints the loss curve, the step at
which the loss first fell below the target, and each clip's answer; exits 1 unless every clip
named its own class (see ``balsa_core.overfit``).

The same run at a larger size measures what the adapter learns beyond memorising, and which
part of the adapter makes the difference (docs/adapter_collapse.md):

    scripts/overfit_check.py --classes 15 --clips-per-class 4 --batch 16 --steps 120 \
        --learning-rate 1e-3 --held-out [--ablate centering] [--ablate input_norm] [--ablate output_scale]

trains on every training clip of those classes in batches of 16, logs the held-out clips' loss
and the collapse monitor every 20 steps, and asks the held-out clips too; ``--ablate`` removes
the centring of the pooled features, the per-layer input LayerNorm or the embedding-scale
projection initialisation.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from balsa_core.adapter import QFormerAdapter
from balsa_core.audio import load_audio
from balsa_core.audio_llm import AudioLLM
from balsa_core.backbones import load_encoder, load_llm, reuse_or_prepare_model
from balsa_core.demo.corpus import DemoCorpusConfig, generate_demo_corpus
from balsa_core.features import encode_waveforms
from balsa_core.overfit import overfit
from balsa_core.prompts import PromptTemplate
from balsa_core.settings import AdapterSettings
from balsa_core.stages.train import adapter_config_for, initial_adapter

LAYERS = [2, 3, 4]
ADAPTER = AdapterSettings(num_queries=16, num_layers=2, num_heads=8, ffn_ratio=4, dropout=0.1)


def single_event_clips(corpus_dir: Path, classes: int, per_class: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``per_class`` training clips (ESC-50 layout, folds 1-4) of each of the first ``classes``
    classes (sorted by name), and the held-out clips (fold 5) of the same classes."""
    meta = pd.read_csv(corpus_dir / "esc50" / "meta" / "esc50.csv")
    meta["tag"] = meta["category"].str.replace("_", " ")
    meta["path"] = [corpus_dir / "esc50" / "audio" / name for name in meta["filename"]]
    meta = meta[meta["tag"].isin(sorted(meta["tag"].unique())[:classes])].sort_values("filename")
    train = meta[meta["fold"] != 5].groupby("tag").head(per_class)
    if len(train) < classes * per_class:
        raise SystemExit(f"the demo corpus has too few clips for {classes} classes x {per_class}")
    return train, meta[meta["fold"] == 5]


ABLATIONS = ("centering", "input_norm", "output_scale")


def ablated(adapter: QFormerAdapter, ablate: Sequence[str]) -> QFormerAdapter:
    """The adapter without the input LayerNorms and/or the embedding-scale projection
    initialisation (PyTorch's default instead)."""
    if "input_norm" in ablate:
        adapter.audio_norms = nn.ModuleList(nn.Identity() for _ in adapter.audio_norms)
    if "output_scale" in ablate:
        adapter.projection.reset_parameters()
    return adapter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--clips-per-class", type=int, default=2)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--target-loss", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=None, help="global batch (default: every clip)")
    parser.add_argument("--held-out", action="store_true", help="also ask the held-out clips of the classes")
    parser.add_argument(
        "--ablate", choices=ABLATIONS, action="append", default=[], help="remove a part of the adapter (repeatable)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)

    llm, tokenizer = load_llm(
        reuse_or_prepare_model("llm", "bundled:smollm2-135m-instruct", args.models_dir, "check-llm.json")
    )
    encoder, feature_extractor = load_encoder(
        reuse_or_prepare_model("encoder", "bundled:whisper-tiny.en", args.models_dir, "check-encoder.json")
    )
    with tempfile.TemporaryDirectory() as corpus_dir:
        generate_demo_corpus(DemoCorpusConfig(), Path(corpus_dir))
        train, test = single_event_clips(Path(corpus_dir), args.classes, args.clips_per_class)
        if not args.held_out:
            test = test.iloc[0:0]
        clips = pd.concat([train, test])
        waveforms = [load_audio(path) for path in clips["path"]]
    encoded = encode_waveforms(encoder, feature_extractor, waveforms, LAYERS, window="clip")
    features = {name: hidden.half() for name, hidden in zip(clips["filename"], encoded)}
    targets = dict(zip(train["filename"], train["tag"]))
    held_out = dict(zip(test["filename"], test["tag"]))

    adapter_config = adapter_config_for(_Store(features), features, llm, LAYERS, ADAPTER)
    if "centering" in args.ablate:
        # As constructed, never centred: a zero centre that stays (the projection keeps its init).
        torch.manual_seed(args.seed)
        adapter = QFormerAdapter(replace(adapter_config, center_momentum=0.0))
    else:
        adapter = initial_adapter(adapter_config, args.seed, _Store(features), targets)
    adapter = ablated(adapter, args.ablate)
    model = AudioLLM(llm, tokenizer, adapter, PromptTemplate(), max_target_tokens=32)
    started = time.perf_counter()
    result = overfit(
        model,
        features,
        targets,
        "Describe the audio.",
        steps=args.steps,
        learning_rate=args.learning_rate,
        target_loss=args.target_loss,
        global_batch_size=args.batch,
        held_out=held_out,
        eval_every=20,
    )
    seconds = time.perf_counter() - started
    history = result.history
    print(
        f"{len(targets)} clips of {args.classes} classes, {len(history)} steps of {args.batch or len(targets)} "
        f"(lr {args.learning_rate:g}, ablated: {', '.join(args.ablate) or 'nothing'}) in {seconds:.0f} s"
    )
    print(
        "loss every 5 steps:", " ".join(f"{loss:.3f}" for loss in result.losses[::5]), f"final {result.losses[-1]:.4f}"
    )
    print(f"loss below {args.target_loss} first at step: {result.steps_to_target}")
    monitored = history.dropna(subset=["probe_spread"])
    print("collapse monitor (step: between-clip spread %, output norm / embedding norm, held-out loss):")
    for row in monitored.itertuples(index=False):
        print(f"  {row.step:>4}: {100 * row.probe_spread:5.1f}%  {row.probe_norm_ratio:5.2f}  {row.val_loss:.3f}")
    for clip, answer in result.answers.items():
        mark = "ok " if clip in result.named else "MISS"
        print(f"  {mark} {clip:<22} {targets[clip]!r:<18} -> {answer!r}")
    print(f"named their own class: {len(result.named)}/{len(targets)}; {'PASSED' if result.passed else 'FAILED'}")
    if held_out:
        for clip, answer in result.held_out_answers.items():
            mark = "ok " if clip in result.held_out_named else "MISS"
            print(f"  held out {mark} {clip:<22} {held_out[clip]!r:<18} -> {answer!r}")
        print(f"held-out clips naming their class: {len(result.held_out_named)}/{len(held_out)}")
    return 0 if result.passed else 1


class _Store(dict):
    get = dict.__getitem__


if __name__ == "__main__":
    sys.exit(main())
