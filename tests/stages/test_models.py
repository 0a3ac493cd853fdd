"""The model stage records where each backbone is: a local checkpoint directory as it is."""

from __future__ import annotations

from pathlib import Path

from balsa_core.backbones import ModelManifest
from balsa_core.stages.models import prepare_model


def test_a_local_checkpoint_is_recorded_as_it_is(tmp_path: Path, tiny_llm_dir: Path, make_config) -> None:
    config = make_config(lambda config: config["models"].update(llm=str(tiny_llm_dir)))
    prepare_model(config, "llm", tmp_path / "llm.json")
    manifest = ModelManifest.read(tmp_path / "llm.json")
    assert (manifest.role, manifest.source, manifest.path) == ("llm", str(tiny_llm_dir), str(tiny_llm_dir))
