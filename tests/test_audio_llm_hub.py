"""The adapter as a Hugging Face model: save_pretrained writes what from_pretrained reads back,
from any working directory or from the hub (a local directory standing in for it), with a model
card; ``balsa_core`` exports AudioLLM without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import huggingface_hub
import pandas as pd
import pytest
import torch

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio_llm import ADAPTER_CONFIG, ADAPTER_WEIGHTS, MODEL_CARD, AudioLLM, AudioLLMSpec, Example
from balsa_core.prompts import PromptTemplate

LLM_COMMIT = "1111111111111111111111111111111111111111"


@pytest.fixture()
def trained(tiny_llm, tiny_llm_dir: Path, tiny_whisper_dir: Path) -> AudioLLM:
    """A model as training leaves it: the tiny backbones by absolute path, its training recorded."""
    llm, tokenizer = tiny_llm
    torch.manual_seed(0)
    config = AdapterConfig(
        encoder_dim=32, llm_dim=llm.config.hidden_size, num_encoder_layers=2, num_queries=4, num_heads=4
    )
    spec = AudioLLMSpec(
        adapter=config,
        llm_path=str(tiny_llm_dir.resolve()),
        encoder_path=str(tiny_whisper_dir.resolve()),
        encoder_layers=[1, 2],
        template=PromptTemplate(),
        llm_hub_id="org/tiny-llm",
        llm_commit=LLM_COMMIT,
        training={
            "variant": "positive_negative",
            "mix": {"positive": 2, "negative": 2},
            "init_from": None,
            "corpora": ["esc50"],
        },
    )
    return AudioLLM(llm, tokenizer, QFormerAdapter(config).eval(), spec.template, spec=spec)


def probe() -> list[Example]:
    generator = torch.Generator().manual_seed(3)
    return [Example(features=[torch.randn(2, 7, 32, generator=generator)], instruction="What do you hear?")]


def test_a_saved_model_loads_from_another_working_directory_and_answers_the_same(trained, tmp_path, monkeypatch):
    with chdir(tmp_path):
        trained.save_pretrained("adapter")  # a relative directory, as the workflow writes it
    assert {path.name for path in (tmp_path / "adapter").iterdir()} == {ADAPTER_WEIGHTS, ADAPTER_CONFIG, MODEL_CARD}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    restored = AudioLLM.from_pretrained(tmp_path / "adapter")

    assert restored.spec == trained.spec
    assert restored.generate_batch(probe(), max_new_tokens=5) == trained.generate_batch(probe(), max_new_tokens=5)


def test_a_model_loads_from_the_hub_and_its_backbone_from_the_recorded_commit(trained, tmp_path, monkeypatch):
    trained.save_pretrained(tmp_path / "hub" / "org--adapter")
    # The LLM's recorded local path is gone (another machine): it comes from the hub at its commit.
    spec_path = tmp_path / "hub" / "org--adapter" / ADAPTER_CONFIG
    raw = json.loads(spec_path.read_text())
    local_llm, raw["llm_path"] = raw["llm_path"], str(tmp_path / "not-on-this-machine")
    spec_path.write_text(json.dumps(raw))
    downloads = []

    def snapshot_download(repo_id: str, revision: str | None = None, **options) -> str:
        downloads.append((repo_id, revision))
        return local_llm if repo_id == "org/tiny-llm" else str(tmp_path / "hub" / repo_id.replace("/", "--"))

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)

    restored = AudioLLM.from_pretrained("org/adapter", revision="v1", with_encoder=False)

    assert downloads == [("org/adapter", "v1"), ("org/tiny-llm", LLM_COMMIT)]
    assert restored.generate_batch(probe(), max_new_tokens=5) == trained.generate_batch(probe(), max_new_tokens=5)


def test_the_model_card_names_backbones_training_and_the_adapters_table_rows(trained, tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    pd.DataFrame({"model": ["positive_only", "positive_negative"], "clotho": [10.0, 12.5]}).to_csv(
        results / "table4.csv", index=False
    )
    trained.save_pretrained(tmp_path / "adapter", results_dir=results)
    card = (tmp_path / "adapter" / MODEL_CARD).read_text()
    assert f"| LLM | org/tiny-llm | {LLM_COMMIT} |" in card
    assert f"| encoder | {trained.spec.encoder_path} | local checkpoint |" in card
    assert "Variant `positive_negative`, trained on the corpora esc50." in card
    assert "Targets per training seed: negative: 2, positive: 2." in card
    assert "Table IV:\n\n| model | clotho |\n|---|---|\n| positive_negative | 12.5 |" in card
    assert "Table V" not in card, "no table5.csv, no row"


def test_push_to_hub_uploads_what_save_pretrained_writes(trained, monkeypatch):
    uploaded = {}

    class FakeApi:
        def __init__(self, token=None) -> None:
            pass

        def create_repo(self, repo_id, private=None, exist_ok=False):
            return huggingface_hub.RepoUrl(f"https://huggingface.co/{repo_id}")

        def upload_folder(self, repo_id, folder_path, commit_message):
            uploaded.update(repo_id=repo_id, files=sorted(path.name for path in Path(folder_path).iterdir()))
            return f"https://huggingface.co/{repo_id}/commit/abc"

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert trained.push_to_hub("org/adapter") == "https://huggingface.co/org/adapter/commit/abc"
    assert uploaded == {"repo_id": "org/adapter", "files": sorted([ADAPTER_CONFIG, ADAPTER_WEIGHTS, MODEL_CARD])}


def test_the_package_exports_audio_llm_without_importing_torch():
    probe = "import sys, balsa_core; print('torch' in sys.modules); balsa_core.AudioLLM; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
