"""The model stages: prepare_model records where each backbone is (a local checkpoint directory as
it is, a hub id downloaded at its pinned revision), and check_shapes stops on settings the
backbones' shapes rule out, naming the key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import huggingface_hub
import pytest

from balsa_core.backbones import ModelManifest
from balsa_core.shapes import ShapeError
from balsa_core.stages.models import check_shapes, prepare_model
from balsa_core.stages.train import audio_llm_spec

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture()
def local_hub(monkeypatch, tiny_llm_dir: Path, tiny_whisper_dir: Path) -> list[dict]:
    """A local stand-in for the hub: snapshot_download copies the tiny checkpoints into the hub
    cache layout (``<cache>/models--<org>--<name>/snapshots/<commit>``), never the network."""
    repos = {"org/tiny-llm": tiny_llm_dir, "org/tiny-whisper": tiny_whisper_dir}
    calls: list[dict] = []

    def snapshot_download(repo_id: str, revision: str | None = None, cache_dir=None, **options) -> str:
        calls.append({"repo_id": repo_id, "revision": revision, "cache_dir": cache_dir})
        snapshot = Path(cache_dir) / f"models--{repo_id.replace('/', '--')}" / "snapshots" / COMMIT
        shutil.copytree(repos[repo_id], snapshot, dirs_exist_ok=True)
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return calls


def test_a_local_checkpoint_is_recorded_as_it_is(tmp_path: Path, tiny_llm_dir: Path, make_config) -> None:
    config = make_config(lambda config: config["models"].update(llm=str(tiny_llm_dir)))
    prepare_model(config, "llm", tmp_path / "llm.json")
    manifest = ModelManifest.read(tmp_path / "llm.json")
    assert (manifest.role, manifest.source, manifest.path) == ("llm", str(tiny_llm_dir), str(tiny_llm_dir))
    assert (manifest.hub_id, manifest.commit) == (None, None)


def test_a_hub_id_is_downloaded_once_at_its_pinned_revision_into_the_cache(tmp_path, local_hub, make_config) -> None:
    cache = tmp_path / "hub-cache"
    config = make_config(
        lambda config: config["models"].update(
            llm="org/tiny-llm", llm_revision="v1.0", encoder="org/tiny-whisper@" + COMMIT[:7], cache_dir=str(cache)
        )
    )
    prepare_model(config, "llm", tmp_path / "llm.json")
    prepare_model(config, "encoder", tmp_path / "encoder.json")

    assert local_hub == [
        {"repo_id": "org/tiny-llm", "revision": "v1.0", "cache_dir": cache},
        {"repo_id": "org/tiny-whisper", "revision": COMMIT[:7], "cache_dir": cache},
    ]
    llm, encoder = ModelManifest.read(tmp_path / "llm.json"), ModelManifest.read(tmp_path / "encoder.json")
    assert (llm.hub_id, llm.revision, llm.commit) == ("org/tiny-llm", "v1.0", COMMIT)
    assert Path(llm.path) == (cache / "models--org--tiny-llm" / "snapshots" / COMMIT).resolve()
    assert (encoder.hub_id, encoder.revision, encoder.commit) == ("org/tiny-whisper", COMMIT[:7], COMMIT)

    # Every adapter trained on them records the commit and the local snapshot.
    spec = audio_llm_spec(None, llm, encoder, config, "positive_negative")
    assert (spec.llm_hub_id, spec.llm_commit, spec.llm_path) == ("org/tiny-llm", COMMIT, llm.path)
    assert (spec.encoder_hub_id, spec.encoder_commit, spec.encoder_path) == ("org/tiny-whisper", COMMIT, encoder.path)
    assert spec.training["variant"] == "positive_negative"


def prepared(tmp_path: Path, make_config, edit, tiny_llm_dir: Path, tiny_whisper_dir: Path):
    def configure(config: dict) -> None:
        config["models"].update(llm=str(tiny_llm_dir), encoder=str(tiny_whisper_dir))
        edit(config)

    config = make_config(configure)
    for role in ("llm", "encoder"):
        prepare_model(config, role, tmp_path / f"{role}.json")
    return config


def test_settings_the_shapes_allow_pass_and_the_shapes_are_written(
    tmp_path, make_config, tiny_llm_dir, tiny_whisper_dir
):
    def edit(config: dict) -> None:
        config["features"]["layers"] = [0, 2]
        config["adapter"]["num_heads"] = 4

    config = prepared(tmp_path, make_config, edit, tiny_llm_dir, tiny_whisper_dir)
    check_shapes(config, tmp_path / "llm.json", tmp_path / "encoder.json", tmp_path / "shapes.json")
    assert json.loads((tmp_path / "shapes.json").read_text()) == {
        "llm": {"hidden_size": 32},
        "encoder": {"width": 32, "layers": 2},
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c["features"].update(layers=[1, 2, 3]),
            r"^features.layers: \[1, 2, 3\] names \[3\], but the encoder has 2 layers, "
            r"so hidden states 0 to 2$",
        ),
        (
            lambda c: c["adapter"].update(num_heads=7),
            r"^adapter.num_heads: 7 does not divide the encoder width 32$",
        ),
    ],
    ids=["encoder-layers", "adapter-heads"],
)
def test_a_setting_the_shapes_rule_out_stops_with_one_line_naming_its_key(
    tmp_path, make_config, tiny_llm_dir, tiny_whisper_dir, edit, message
):
    def configure(config: dict) -> None:
        config["features"]["layers"] = [1, 2]
        config["adapter"]["num_heads"] = 4
        edit(config)

    config = prepared(tmp_path, make_config, configure, tiny_llm_dir, tiny_whisper_dir)
    with pytest.raises(ShapeError, match=message):
        check_shapes(config, tmp_path / "llm.json", tmp_path / "encoder.json", tmp_path / "shapes.json")
    assert not (tmp_path / "shapes.json").exists()
