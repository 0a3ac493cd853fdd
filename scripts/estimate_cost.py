"""Estimated GPU-hours per pipeline stage and feature-cache storage for the paper-scale run.

    .venv/bin/python scripts/estimate_cost.py
    .venv/bin/python scripts/estimate_cost.py --config config/paper.yaml --gpu rtx6000ada --mfu 0.25

These are estimates from a FLOP and memory-bandwidth model, not measurements of the paper-scale
run (no such run has been timed). Every input is printed with its provenance:

* MEASURED: measured on this repository's CPU machine by the script named;
* PUBLIC: a published figure (the BALSa journal paper, a model card or config, a datasheet);
* ASSUMED: a guess, named and overridable, that the printed figures depend on.

The one measured cross-check is the training FLOPs per example: the formula of the training
step used here (4 x the LLM's layer params x the tokens after the cached prompt prefix, 4 x its
LM head x the target tokens, and the adapter) is compared with the FLOPs that
``torch.utils.flop_counter`` counted in scripts/bench_training.py for SmolLM2-135M.

Without --config, config/paper.yaml is read when it exists; keys it lacks fall back to the
defaults below (the papers' setup). docs/cost.md explains every figure.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PAPER_CONFIG = Path("config/paper.yaml")
HOUR = 3600.0


@dataclass(frozen=True)
class Gpu:
    name: str
    bf16_dense_flops: float  # datasheet peak without 2:4 sparsity
    memory_bytes_per_s: float
    source: str


GPUS = {
    "h100": Gpu("H100 SXM", 989.4e12, 3.35e12, "NVIDIA H100 datasheet (SXM; 1979 TFLOPS is with sparsity)"),
    "a100": Gpu("A100 SXM 80GB", 312e12, 2.039e12, "NVIDIA A100 datasheet (SXM 80GB; 624 TFLOPS with sparsity)"),
    "rtx6000ada": Gpu(
        "RTX 6000 Ada",
        364.2e12,
        0.96e12,
        "NVIDIA RTX 6000 Ada datasheet / Ada whitepaper (BF16 FP32-accumulate dense; 728.5 with sparsity)",
    ),
}

# Table III of the BALSa journal paper: unique hours, single-audio samples and multi-audio
# samples (the blue "+" numbers) per training corpus.
TABLE_III = {
    # corpus: (hours, single-audio samples, multi-audio samples)
    "audioset20k": (60, 42_000, 0),
    "audiocaps": (138, 96_000, 49_000),
    "clotho": (18, 27_000, 13_000),
    "macs": (11, 33_000, 0),
    "fsd50k": (56, 56_000, 19_000),
    "esc50": (3, 4_000, 10_000),
    "urbansound8k": (10, 17_000, 0),
    "vocalsound": (20, 34_000, 0),
}

# Mean clip length per corpus, to turn hours into clips (only the untrimmed cache and the
# encoder's fixed 30 s window depend on the number of clips, not on the hours).
CLIP_SECONDS = {
    "audioset20k": (10.0, "PUBLIC: AudioSet segments are 10 s"),
    "audiocaps": (10.0, "PUBLIC: AudioCaps clips are 10 s AudioSet segments"),
    "clotho": (22.5, "ASSUMED: midpoint of Clotho's 15-30 s"),
    "macs": (10.0, "PUBLIC: TAU 2019 clips are 10 s"),
    "fsd50k": (7.6, "ASSUMED: FSD50K clips are 0.3-30 s; 7.6 s mean"),
    "esc50": (5.0, "PUBLIC: ESC-50 clips are 5 s"),
    "urbansound8k": (3.6, "ASSUMED: UrbanSound8K clips are <= 4 s"),
    "vocalsound": (3.4, "ASSUMED: Table III's 20 h over ~21K VocalSound recordings"),
}

# Items per evaluation at paper scale, keyed as in evaluation.benchmarks: (items, mean answer
# tokens, provenance). SAKURA counts per track: a config lists the tracks it runs.
SAKURA_ITEMS_PER_TRACK = 500 * 2
EVALUATIONS = {
    "hallucination": (
        31_047 + 31_376 + 30_220,
        4,
        "PUBLIC: 'Total samples' headers of the released {adversarial,popular,random}_test.txt",
    ),
    "clotho_aqa": (
        round(1991 * 6 * 0.20 * 0.52),
        4,
        "PUBLIC 1991 files x 6 questions; ASSUMED 20% test; MEASURED 52% unanimous in the 300-row sample",
    ),
    "nonspeech7k": (725, 8, "ASSUMED (brief): test clips, not checked against the release"),
    "cochlscene": (1300, 8, "ASSUMED (brief): evaluated clips, not checked against the release"),
    "edansa": (1077, 8, "ASSUMED (brief): multiple-choice items, not checked against the release"),
    "sakura": (
        4 * SAKURA_ITEMS_PER_TRACK,
        8,
        "PUBLIC: SAKURA, 500 clips x 2 hops per track; 4 tracks unless a config lists fewer",
    ),
    "mmau": (333, 8, "PUBLIC: task=sound items of the released mmau-test-mini.json"),
    "audio_entailment_clotho": (1045 * 3, 8, "ASSUMED: a row per Clotho eval clip (1045), 3 hypotheses"),
    "audio_entailment_audiocaps": (975 * 3, 8, "ASSUMED: a row per AudioCaps test clip (975), 3 hypotheses"),
    "synonym_hypernym": (4000, 4, "ASSUMED: size unknown; ~975 AudioCaps test clips x ~4 words"),
    "instruction_following": (1000, 150, "ASSUMED: size unknown; long open answers"),
}
# Built from held-out clips when no released files are configured, so always run.
ALWAYS_RUN = ("hallucination", "instruction_following")

DEFAULT_TARGET_SETS = {
    # name: (audios per prompt, written by the backbone)
    "positive": (1, True),
    "negative": (1, True),
    "combined": (1, True),
    "difference": (2, True),
    "caption_both": (2, True),
}

# The papers' Table IV rows: three single-audio ablations on 2N samples (combined: N samples
# carrying both) and the two multi-audio (BALSa-MA) adapters of stage 2.
DEFAULT_VARIANTS: dict[str, dict[str, Any]] = {
    "positive_only": {"positive": 2},
    "positive_negative": {"positive": 1, "negative": 1},
    "combined": {"combined": 1},
    "ma_difference": {"init_from": "positive_negative", "difference": 1},
    "ma_caption_both": {"init_from": "positive_negative", "caption_both": 1},
}


@dataclass
class Inputs:
    """Every figure the estimate rests on; ``provenance`` says where each one comes from."""

    # Llama-3.1-8B-Instruct (PUBLIC: model card and config.json).
    llm_params: float = 8.03e9
    llm_input_embedding_params: float = 128_256 * 4096  # a lookup: no FLOPs
    llm_output_embedding_params: float = 128_256 * 4096  # the LM head: training runs it on targets only
    llm_kv_bytes_per_token: float = 32 * 8 * 128 * 2 * 2  # layers x KV heads x head dim x (K, V) x bf16
    # Whisper-small encoder (PUBLIC: config.json).
    encoder_layers: int = 12
    encoder_dim: int = 768
    encoder_ffn_dim: int = 3072
    encoder_mels: int = 80
    encoder_window_frames: int = 1500  # 30 s at 50 frames/s
    # Adapter and training (PUBLIC: BALSa journal, section IV.B).
    adapter_params: float = 22e6
    num_queries: int = 64
    stage1_epochs: int = 5
    stage2_epochs: int = 2
    # Pipeline settings (config/paper.yaml when given).
    feature_layers: tuple[int, ...] = (4, 8, 12)
    trim: bool = True
    window: str = "full"
    max_new_tokens: int = 256
    max_target_tokens: int = 256
    answer_max_new_tokens: int = 512  # the papers' greedy evaluation cap
    text_ceiling: bool = True
    target_sets: dict[str, tuple[int, bool]] = field(default_factory=lambda: dict(DEFAULT_TARGET_SETS))
    variants: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_VARIANTS))
    evaluations: dict[str, tuple[int, int, str]] = field(default_factory=lambda: dict(EVALUATIONS))
    # ASSUMED workload shape.
    generation_prompt_tokens: int = 100
    mean_target_tokens: int = 120
    training_text_tokens: int = 40
    training_prefix_tokens: int = 30  # of those, before the first audio slot: cached once per run
    eval_text_tokens: int = 90
    # ASSUMED hardware efficiency.
    mfu: float = 0.35
    bandwidth_utilisation: float = 0.7
    decode_batch: int = 128
    # MEASURED on this machine: scripts/bench_training.py (README Benchmarks), the new step's
    # FLOPs and the tokens per example it runs through the LLM with gradient and the LM head.
    bench_flops_per_example: float = 49.89e9
    bench_grad_tokens: float = 97.5
    bench_head_tokens: float = 14.8
    bench_llm_params: float = 134_515_008  # SmolLM2-135M, tied embeddings: the head reuses them
    bench_head_params: float = 49_152 * 576
    bench_adapter_params: float = 5_018_883
    bench_queries: int = 64
    bench_layers: int = 3
    bench_frames: int = 150  # 3 s demo clips

    @property
    def llm_matmul_params(self) -> float:
        return self.llm_params - self.llm_input_embedding_params

    @property
    def llm_layer_params(self) -> float:
        """The matmul params of the transformer layers: all but the LM head."""
        return self.llm_matmul_params - self.llm_output_embedding_params


PROVENANCE = {
    "llm_params": "PUBLIC: Llama-3.1-8B model card (8.03B)",
    "llm_input_embedding_params": "PUBLIC: Llama-3.1-8B config (vocab 128256 x 4096, untied)",
    "llm_output_embedding_params": "PUBLIC: Llama-3.1-8B config (its LM head, vocab 128256 x 4096)",
    "llm_kv_bytes_per_token": "PUBLIC: Llama-3.1-8B config (32 layers, 8 KV heads, head dim 128)",
    "encoder_layers": "PUBLIC: whisper-small config (242M params in all)",
    "encoder_dim": "PUBLIC: whisper-small config (d_model)",
    "encoder_ffn_dim": "PUBLIC: whisper-small config",
    "encoder_mels": "PUBLIC: whisper-small config",
    "encoder_window_frames": "PUBLIC: Whisper's 30 s window at 50 frames/s",
    "adapter_params": "PUBLIC: BALSa journal IV.B (~22M trainable)",
    "num_queries": "PUBLIC: BALSa journal IV.B; config adapter.num_queries",
    "stage1_epochs": "PUBLIC: BALSa journal IV.B; config training.epochs",
    "stage2_epochs": "PUBLIC: BALSa journal IV.B (a variant's own epochs override it)",
    "feature_layers": "config features.layers, else ASSUMED 3 layers up to the last",
    "trim": "config features.trim (default true)",
    "window": "config features.window, else the papers' full 30 s window",
    "max_new_tokens": "config generation.max_new_tokens, else ASSUMED 256",
    "max_target_tokens": "config training.max_target_tokens (schema default 256)",
    "answer_max_new_tokens": "PUBLIC: BALSa journal IV.C (greedy, 512)",
    "text_ceiling": "config evaluation.text_ceiling (default true)",
    "target_sets": "config targets, else ASSUMED the papers' five backbone sets",
    "variants": "config variants, else ASSUMED the papers' five Table IV adapters",
    "evaluations": "config evaluation.benchmarks, else all ten (sizes below)",
    "generation_prompt_tokens": "ASSUMED: chat template + seed + generation prompt",
    "mean_target_tokens": "ASSUMED: targets stop at end of turn, well before the cap",
    "training_text_tokens": "ASSUMED: chat template, audio markers, instruction",
    "training_prefix_tokens": "ASSUMED: Llama-3.1's template before the audio (dated system header, user turn)",
    "eval_text_tokens": "ASSUMED: chat template, question, options, instruction",
    "mfu": "ASSUMED: model-FLOPs utilisation of training, prefill and the encoder",
    "bandwidth_utilisation": "ASSUMED: share of peak memory bandwidth in decode (1.0 = roofline)",
    "decode_batch": "ASSUMED: concurrent sequences per decode step (vLLM)",
    "bench_flops_per_example": "MEASURED: scripts/bench_training.py, the new step (flop_counter, SmolLM2-135M)",
    "bench_grad_tokens": "MEASURED: scripts/bench_training.py, tokens per example 'through the LLM with gradient'",
    "bench_head_tokens": "MEASURED: scripts/bench_training.py, tokens per example 'through the LM head'",
    "bench_llm_params": "MEASURED: scripts/bench_training.py counts SmolLM2-135M-Instruct's parameters",
    "bench_head_params": "PUBLIC: SmolLM2-135M config (vocab 49152 x 576, tied: the head is the embedding)",
    "bench_adapter_params": "MEASURED: bench_training.py's adapter (Whisper tiny.en, 64 queries)",
    "bench_queries": "MEASURED: bench_training.py's adapter setting",
    "bench_layers": "MEASURED: bench_training.py's LAYERS",
    "bench_frames": "MEASURED: bench_training.py's 3 s clips at 50 frames/s",
}


def generated_on_gpu(config: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether our GPUs write a target set: ground-truth sets are copied from the annotations and
    question-answer sets from their question file, and sets behind an OpenAI-compatible endpoint
    (the external-LLM ablation) run elsewhere."""
    if entry.get("source", "backbone") in ("ground_truth", "question_answers"):
        return False
    generation = config.get("generation", {})
    backend = generation.get("backends", {}).get(entry.get("backend", generation.get("backend")), {})
    return backend.get("type") != "openai"


def inputs_from_config(config: Mapping[str, Any], base: Inputs) -> Inputs:
    """``base`` with what a pipeline config sets; keys it lacks keep their defaults."""
    features = config.get("features", {})
    generation = config.get("generation", {})
    training = config.get("training", {})
    evaluation = config.get("evaluation", {})
    answering = evaluation.get("answering", {})
    changes: dict[str, Any] = {}
    if "layers" in features:
        changes["feature_layers"] = tuple(features["layers"])
    for key, name in (("trim", "trim"), ("window", "window")):
        if key in features:
            changes[name] = features[key]
    if "max_new_tokens" in generation:
        changes["max_new_tokens"] = generation["max_new_tokens"]
    if "epochs" in training:
        changes["stage1_epochs"] = training["epochs"]
    if "max_target_tokens" in training:
        changes["max_target_tokens"] = training["max_target_tokens"]
    if "num_queries" in config.get("adapter", {}):
        changes["num_queries"] = config["adapter"]["num_queries"]
    if "max_new_tokens" in answering:
        changes["answer_max_new_tokens"] = answering["max_new_tokens"]
    if "text_ceiling" in evaluation:
        changes["text_ceiling"] = evaluation["text_ceiling"]
    if "targets" in config:
        changes["target_sets"] = {
            name: (entry.get("audios", 1), generated_on_gpu(config, entry)) for name, entry in config["targets"].items()
        }
    if "benchmarks" in evaluation:
        configured = evaluation["benchmarks"]
        changes["evaluations"] = {
            name: EVALUATIONS[name] for name in EVALUATIONS if name in configured or name in ALWAYS_RUN
        }
        if "sakura" in configured:
            items, answer_tokens, source = EVALUATIONS["sakura"]
            tracks = len(configured["sakura"].get("files", []))
            changes["evaluations"]["sakura"] = (tracks * SAKURA_ITEMS_PER_TRACK, answer_tokens, source)
    if "variants" in config:
        changes["variants"] = dict(config["variants"])
    return dataclasses.replace(base, **changes)


# ----------------------------------------------------------------------------- workload


def seeds() -> int:
    """Single-audio seeds N: Table III counts 2N samples per corpus (two targets per seed)."""
    return sum(single for _, single, _ in TABLE_III.values()) // 2


def pairs() -> int:
    """Multi-audio pairs: ASSUMED one Table III multi-audio sample per pair and set."""
    return sum(multi for _, _, multi in TABLE_III.values())


def units(audios: int) -> int:
    return seeds() if audios == 1 else pairs()


def mix(variant: Mapping[str, Any]) -> dict[str, int]:
    """Targets drawn per seed (pair) from each set; the other keys configure the variant."""
    return {name: count for name, count in variant.items() if name not in ("init_from", "epochs")}


def variant_epochs(inputs: Inputs, variant: Mapping[str, Any]) -> int:
    """A variant's own epochs, else the papers': five for stage 1, two for stage 2 (init_from)."""
    if "epochs" in variant:
        return variant["epochs"]
    return inputs.stage2_epochs if "init_from" in variant else inputs.stage1_epochs


def prompts_per_set(inputs: Inputs) -> dict[str, int]:
    """Backbone prompts per target set: each seed (pair) gets the most targets any variant draws
    from the set, as balsa_core.config.samples_per_seed does (one if no variant uses it)."""
    counts = {}
    for name, (audios, generated) in inputs.target_sets.items():
        if generated:
            drawn = max((mix(v).get(name, 0) for v in inputs.variants.values()), default=0) or 1
            counts[name] = units(audios) * drawn
    return counts


def target_tokens(inputs: Inputs) -> int:
    return min(inputs.mean_target_tokens, inputs.max_new_tokens, inputs.max_target_tokens)


def training_examples(inputs: Inputs, variant: Mapping[str, Any]) -> dict[int, int]:
    """Examples of one variant per epoch, keyed by audios per example."""
    examples: dict[int, int] = {}
    for name, count in mix(variant).items():
        audios = inputs.target_sets[name][0]
        examples[audios] = examples.get(audios, 0) + units(audios) * count
    return examples


def mean_clip_seconds() -> float:
    hours = sum(h for h, _, _ in TABLE_III.values())
    return hours * HOUR / clip_count()


def clip_count() -> int:
    return round(sum(h * HOUR / CLIP_SECONDS[corpus][0] for corpus, (h, _, _) in TABLE_III.items()))


# ----------------------------------------------------------------------------- FLOPs and time


def training_flops_per_example(
    llm_matmul_params: float, tokens: int, adapter_params: float, adapter_tokens: int
) -> float:
    """Forward through the frozen LLM (2NT) and the backward carrying activation gradients
    back to the adapter (2NT; a frozen LLM needs no weight gradients), plus forward and
    backward with weight gradients of the adapter (6 x params x the queries and frames it
    sees: an upper bound, only its input projection and cross-attention see the frames).
    Attention's T^2 term is left out: under 1% of the matmuls at these lengths."""
    return 4 * llm_matmul_params * tokens + 6 * adapter_params * adapter_tokens


def step_flops_per_example(
    layer_params: float,
    head_params: float,
    grad_tokens: float,
    head_tokens: float,
    adapter_params: float,
    adapter_tokens: float,
) -> float:
    """The training step as balsa_core.audio_llm takes it: the LLM's layers forward and backward
    on the tokens after the shared prompt prefix (whose keys and values are computed once per
    run, so nothing per example), the LM head forward and backward only where a target token is
    predicted, and the adapter (``training_flops_per_example``)."""
    return training_flops_per_example(layer_params, grad_tokens, adapter_params, adapter_tokens) + (
        4 * head_params * head_tokens
    )


def frames_per_clip(inputs: Inputs) -> float:
    """Frames the cache keeps (and the adapter reads) per clip."""
    if inputs.trim:
        return 50 * mean_clip_seconds()
    return inputs.encoder_window_frames


def training_flops(inputs: Inputs) -> float:
    total = 0.0
    # The adapter reads each encoder layer separately (layers folded into the batch).
    adapter_tokens_per_audio = len(inputs.feature_layers) * (inputs.num_queries + frames_per_clip(inputs))
    for variant in inputs.variants.values():
        epochs = variant_epochs(inputs, variant)
        for audios, count in training_examples(inputs, variant).items():
            per_example = step_flops_per_example(
                inputs.llm_layer_params,
                inputs.llm_output_embedding_params,
                grad_tokens(inputs, audios),
                target_tokens(inputs),
                inputs.adapter_params,
                audios * adapter_tokens_per_audio,
            )
            total += epochs * count * per_example
    return total


def grad_tokens(inputs: Inputs, audios: int) -> int:
    """Tokens per example through the LLM with gradient: all after the cached prefix."""
    text = inputs.training_text_tokens - inputs.training_prefix_tokens
    return text + audios * inputs.num_queries + target_tokens(inputs)


def bench_cross_check(inputs: Inputs) -> tuple[float, float]:
    """Measured FLOPs per example over the formula's, on bench_training.py's own setup; and over
    the formula's LLM terms alone there: the factor by which the paper's LLM terms, which the
    measured figure scales to by params and tokens, would be off."""
    layer_params = inputs.bench_llm_params - inputs.bench_head_params
    llm_terms = step_flops_per_example(
        layer_params, inputs.bench_head_params, inputs.bench_grad_tokens, inputs.bench_head_tokens, 0.0, 0
    )
    bench_formula = step_flops_per_example(
        layer_params,
        inputs.bench_head_params,
        inputs.bench_grad_tokens,
        inputs.bench_head_tokens,
        inputs.bench_adapter_params,
        inputs.bench_layers * (inputs.bench_queries + inputs.bench_frames),
    )
    return inputs.bench_flops_per_example / bench_formula, inputs.bench_flops_per_example / llm_terms


def encoder_flops_per_clip(inputs: Inputs, frames: float) -> float:
    """Whisper encoder up to the deepest configured layer (the cache stops there): 2 x matmul
    params x frames, the two input convolutions, and attention's 4 T^2 d per layer."""
    depth = max(inputs.feature_layers)
    d, ffn = inputs.encoder_dim, inputs.encoder_ffn_dim
    layer_params = 4 * d * d + 2 * d * ffn
    conv_flops = 2 * 3 * (inputs.encoder_mels * d * 2 * frames + d * d * frames)
    return depth * (2 * layer_params * frames + 4 * frames * frames * d) + conv_flops


def compute_seconds(flops: float, gpu: Gpu, mfu: float) -> float:
    return flops / (gpu.bf16_dense_flops * mfu)


def decode_seconds(inputs: Inputs, gpu: Gpu, sequences: int, new_tokens: int, context: int) -> float:
    """Decoding is memory-bound: each step reads all weights (~16 GB in bf16) plus the batch's
    KV cache, once for ``decode_batch`` sequences. The step takes the longer of that read and
    its matmuls; ``bandwidth_utilisation`` 1.0 is the roofline upper bound on steps/s."""
    batch = min(inputs.decode_batch, sequences)
    bytes_per_step = 2 * inputs.llm_params + batch * context * inputs.llm_kv_bytes_per_token
    memory = bytes_per_step / (gpu.memory_bytes_per_s * inputs.bandwidth_utilisation)
    compute = compute_seconds(2 * inputs.llm_matmul_params * batch, gpu, inputs.mfu)
    steps = sequences * new_tokens / batch
    return steps * max(memory, compute)


def generation_seconds(inputs: Inputs, gpu: Gpu, prompts: int, prompt_tokens: int, new_tokens: int) -> float:
    prefill = compute_seconds(2 * inputs.llm_matmul_params * prompt_tokens * prompts, gpu, inputs.mfu)
    # The mean context over the decode of a sequence is the prompt plus half the answer.
    return prefill + decode_seconds(inputs, gpu, prompts, new_tokens, prompt_tokens + new_tokens // 2)


def eval_models(inputs: Inputs) -> int:
    return len(inputs.variants) + int(inputs.text_ceiling)


def stage_seconds(inputs: Inputs, gpu: Gpu) -> dict[str, float]:
    """GPU-seconds per pipeline stage on one ``gpu``."""
    targets = 0.0
    for name, count in prompts_per_set(inputs).items():
        audios = inputs.target_sets[name][0]
        # Two-audio prompts hold two seeds.
        prompt = inputs.generation_prompt_tokens * audios
        targets += generation_seconds(inputs, gpu, count, prompt, min(inputs.mean_target_tokens, inputs.max_new_tokens))
    window = inputs.encoder_window_frames if inputs.window == "full" else 50 * mean_clip_seconds()
    features = compute_seconds(clip_count() * encoder_flops_per_clip(inputs, window), gpu, inputs.mfu)
    evaluation = 0.0
    for items, answer_tokens, _ in inputs.evaluations.values():
        prompt = inputs.eval_text_tokens + inputs.num_queries
        answer = min(answer_tokens, inputs.answer_max_new_tokens)
        evaluation += eval_models(inputs) * generation_seconds(inputs, gpu, items, prompt, answer)
    return {
        "1 target generation (vLLM)": targets,
        "2 Whisper feature cache": features,
        "3 adapter training": compute_seconds(training_flops(inputs), gpu, inputs.mfu),
        "4 evaluation": evaluation,
    }


# ----------------------------------------------------------------------------- storage


def feature_bytes(clips: int, layers: int, frames: float, dim: int) -> float:
    """fp16 hidden states: clips x layers x frames x dim x 2 bytes (shard and index overhead aside)."""
    return clips * layers * frames * dim * 2


def storage(inputs: Inputs) -> dict[str, float]:
    layers = len(inputs.feature_layers)
    return {
        "trimmed (50 frames/s)": feature_bytes(clip_count(), layers, 50 * mean_clip_seconds(), inputs.encoder_dim),
        "untrimmed (1500 frames)": feature_bytes(
            clip_count(), layers, inputs.encoder_window_frames, inputs.encoder_dim
        ),
    }


# ----------------------------------------------------------------------------- report


def shown(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.4g}" if isinstance(value, float) else f"{value:,}"
    return str(value)


def report(inputs: Inputs, gpus: list[Gpu], config_path: Path | None) -> str:
    lines = ["ESTIMATES, not measurements: a FLOP / memory-bandwidth model of the paper-scale run."]
    lines.append(f"config: {config_path or 'none (defaults: the setup of the papers)'}")
    lines.append("")
    header = f"{'stage':30}" + "".join(f"{gpu.name + ' GPU-h':>20}" for gpu in gpus)
    lines += [header, "-" * len(header)]
    per_gpu = [stage_seconds(inputs, gpu) for gpu in gpus]
    for stage in per_gpu[0]:
        lines.append(f"{stage:30}" + "".join(f"{seconds[stage] / HOUR:>20.2f}" for seconds in per_gpu))
    lines.append(f"{'total':30}" + "".join(f"{sum(seconds.values()) / HOUR:>20.2f}" for seconds in per_gpu))
    lines.append("")

    counts = prompts_per_set(inputs)
    lines.append(
        f"workload: {seeds():,} seeds, {pairs():,} pairs, {clip_count():,} clips, {eval_models(inputs)} models"
    )
    lines.append("  prompts per target set: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
    for name, variant in inputs.variants.items():
        epochs = variant_epochs(inputs, variant)
        examples = sum(training_examples(inputs, variant).values())
        lines.append(f"  training {name}: {examples:,} examples x {epochs} epochs")
    items = sum(items for items, _, _ in inputs.evaluations.values())
    lines.append(f"  evaluation: {items:,} items per model")
    lines.append(f"  training FLOPs: {training_flops(inputs):.3g}")
    lines.append("")

    measured_ratio, scaled_ratio = bench_cross_check(inputs)
    measured = inputs.bench_flops_per_example / 1e9
    lines.append(f"cross-check (MEASURED, scripts/bench_training.py, {measured:.0f} GFLOP/example on SmolLM2-135M):")
    lines.append(f"  measured / formula on the bench setup:           {measured_ratio:.2f}")
    lines.append(f"  measured / the formula's LLM terms there:        {scaled_ratio:.2f}")
    lines.append("")

    lines.append(
        f"feature cache storage ({len(inputs.feature_layers)} layers x {inputs.encoder_dim} x fp16, "
        f"{sum(h for h, _, _ in TABLE_III.values())} h of unique audio, mean clip {mean_clip_seconds():.1f} s):"
    )
    for name, size in storage(inputs).items():
        marker = "  <- configured" if name.startswith("trimmed") == inputs.trim else ""
        lines.append(f"  {name:26} {size / 1e9:8.0f} GB{marker}")
    lines.append("")

    lines.append("inputs:")
    for gpu in gpus:
        lines.append(
            f"  {gpu.name}: {gpu.bf16_dense_flops / 1e12:.1f} TFLOPS bf16 dense, "
            f"{gpu.memory_bytes_per_s / 1e12:.2f} TB/s  PUBLIC: {gpu.source}"
        )
    for name, source in PROVENANCE.items():
        lines.append(f"  {name} = {shown(getattr(inputs, name))}  {source}")
    for corpus, (seconds, source) in CLIP_SECONDS.items():
        lines.append(f"  clip seconds {corpus} = {seconds}  {source}")
    lines.append("  Table III hours and samples per corpus  PUBLIC: BALSa journal Table III")
    for name, (count, answer_tokens, source) in inputs.evaluations.items():
        lines.append(f"  eval {name} = {count:,} items, {answer_tokens} answer tokens  {source}")
    lines.append("  eval answer lengths  ASSUMED: short answers; instruction following long")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help=f"pipeline config (default {PAPER_CONFIG} when it exists)")
    parser.add_argument("--gpu", choices=[*GPUS, "all"], default="all")
    defaults = Inputs()
    parser.add_argument("--mfu", type=float, default=defaults.mfu, help="model-FLOPs utilisation (ASSUMED)")
    parser.add_argument("--bandwidth-utilisation", type=float, default=defaults.bandwidth_utilisation)
    parser.add_argument("--decode-batch", type=int, default=defaults.decode_batch)
    parser.add_argument("--mean-target-tokens", type=int, default=defaults.mean_target_tokens)
    args = parser.parse_args(argv)

    config_path = args.config or (PAPER_CONFIG if PAPER_CONFIG.exists() else None)
    inputs = defaults
    if config_path is not None:
        inputs = inputs_from_config(yaml.safe_load(config_path.read_text()) or {}, inputs)
    inputs = dataclasses.replace(
        inputs,
        mfu=args.mfu,
        bandwidth_utilisation=args.bandwidth_utilisation,
        decode_batch=args.decode_batch,
        mean_target_tokens=args.mean_target_tokens,
    )
    gpus = list(GPUS.values()) if args.gpu == "all" else [GPUS[args.gpu]]
    print(report(inputs, gpus, config_path))


if __name__ == "__main__":
    main()
