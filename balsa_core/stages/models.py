"""rules/models.smk: the backbone LLM and the audio encoder, converted once when bundled, recorded
in a manifest that every later stage loads them from."""

from __future__ import annotations

from pathlib import Path

from balsa_core.settings import PipelineConfig


def prepare_model(config: PipelineConfig, role: str, manifest: Path) -> None:
    """Resolve ``models.<role>`` (``llm`` or ``encoder``) and write its manifest."""
    from balsa_core import backbones

    backbones.prepare_model(role, getattr(config.models, role), manifest)
