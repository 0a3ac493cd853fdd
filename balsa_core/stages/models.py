"""rules/models.smk: the backbone LLM and the audio encoder, converted once when bundled,
downloaded once at a pinned revision from the hub, recorded in a manifest that every later stage
loads them from; then the settings that only their shapes can check."""

from __future__ import annotations

import json
from pathlib import Path

from balsa_core.settings import PipelineConfig


def prepare_model(config: PipelineConfig, role: str, manifest: Path) -> None:
    """Resolve ``models.<role>`` (``llm`` or ``encoder``) and write its manifest."""
    from balsa_core import backbones

    models = config.models
    backbones.prepare_model(
        role, getattr(models, role), manifest, revision=models.revision(role), cache_dir=Path(models.cache_dir)
    )


def check_shapes(config: PipelineConfig, llm: Path, encoder: Path, shapes: Path) -> None:
    """Check ``features.layers`` and ``adapter.num_heads`` against the prepared encoder's
    shapes, and write the shapes of both backbones: every model job waits for this."""
    from balsa_core.shapes import ShapeError, model_shapes, shape_problems

    llm_shapes, encoder_shapes = model_shapes(llm), model_shapes(encoder)
    problems = shape_problems(config, encoder_shapes)
    if problems:
        raise ShapeError("\n".join(problems))
    shapes.parent.mkdir(parents=True, exist_ok=True)
    shapes.write_text(json.dumps({"llm": llm_shapes, "encoder": encoder_shapes}, indent=2) + "\n")
