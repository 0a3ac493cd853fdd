"""Settings only the backbones' shapes can check, checked right after ``prepare_model`` (the
``check_shapes`` job): a bad value stops the workflow before any generation, feature or training
job. Light on purpose: the job reads two manifests and their checkpoints' config.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from balsa_core.settings import PipelineConfig


class ShapeError(ValueError):
    """A setting the backbones' shapes rule out; one line per setting, naming its key."""


def hidden_state_problem(layers: Sequence[int], encoder_layers: int) -> str | None:
    """Why ``features.layers`` cannot index an encoder of ``encoder_layers`` layers, if it cannot:
    it has one hidden state per layer plus its input embeddings (state 0), and a negative index
    counts from the end, as ``features`` reads them."""
    outside = [layer for layer in layers if not -(encoder_layers + 1) <= layer <= encoder_layers]
    if not outside:
        return None
    return (
        f"features.layers: {list(layers)} names {outside}, but the encoder has {encoder_layers} layers, "
        f"so hidden states 0 to {encoder_layers}"
    )


def shape_problems(config: PipelineConfig, encoder_shapes: dict[str, int]) -> list[str]:
    """Every setting of ``config`` that the encoder's shapes rule out, one line each. (The LLM's
    hidden size sets the adapter's output width, which no setting constrains.)"""
    problems = []
    layer_problem = hidden_state_problem(config.features.layers, encoder_shapes["layers"])
    if layer_problem:
        problems.append(layer_problem)
    width, heads = encoder_shapes["width"], config.adapter.num_heads
    # The adapter attends at the encoder's width (adapter.QFormerAdapter), split across its heads.
    if width % heads:
        problems.append(f"adapter.num_heads: {heads} does not divide the encoder width {width}")
    return problems


def model_shapes(manifest: Path) -> dict[str, int]:
    """The shapes of the checkpoint ``manifest`` records, from its ``config.json`` (read as JSON:
    the check needs neither torch nor transformers): an LLM's hidden size, or a Whisper
    encoder's width and layers."""
    recorded = json.loads(manifest.read_text())
    config = json.loads((Path(recorded["path"]) / "config.json").read_text())
    if recorded["role"] == "llm":
        # A multimodal checkpoint keeps its language model's settings apart.
        return {"hidden_size": config.get("text_config", config)["hidden_size"]}
    return {"width": config["d_model"], "layers": config["encoder_layers"]}
