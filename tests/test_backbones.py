from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from balsa_core.backbones import ModelManifest, reuse_or_prepare_model


def test_a_script_reuses_the_pipelines_manifest_of_the_same_model(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    ModelManifest(role="llm", source=str(checkpoint), path=str(checkpoint)).write(tmp_path / "llm.json")

    assert reuse_or_prepare_model("llm", str(checkpoint), tmp_path, "bench-llm.json") == str(checkpoint)
    assert not (tmp_path / "bench-llm.json").exists()


@pytest.mark.parametrize(
    "pipeline_manifest",
    [
        lambda checkpoint: None,
        lambda checkpoint: ModelManifest("llm", "bundled:another-model", "models/bundled/another-model"),
        # The same model, but its checkpoint was deleted since the pipeline prepared it.
        lambda checkpoint: ModelManifest("llm", str(checkpoint), str(checkpoint.parent / "deleted")),
    ],
    ids=["no-manifest", "another-model", "checkpoint-gone"],
)
def test_otherwise_a_script_prepares_the_model_under_its_own_manifest(
    tmp_path: Path, pipeline_manifest: Callable[[Path], ModelManifest | None]
) -> None:
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    pipeline = pipeline_manifest(checkpoint)
    if pipeline is not None:
        pipeline.write(tmp_path / "llm.json")

    assert reuse_or_prepare_model("llm", str(checkpoint), tmp_path, "bench-llm.json") == str(checkpoint)

    assert ModelManifest.read(tmp_path / "bench-llm.json") == ModelManifest("llm", str(checkpoint), str(checkpoint))
    if pipeline is not None:
        assert ModelManifest.read(tmp_path / "llm.json") == pipeline, "the pipeline's manifest is left alone"
