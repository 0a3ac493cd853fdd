from __future__ import annotations

from pathlib import Path

import pytest

from tiny_models import build_tiny_llm, build_tiny_whisper

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_llm_dir(tmp_path_factory) -> Path:
    return build_tiny_llm(tmp_path_factory.mktemp("tiny-llm"))


@pytest.fixture(scope="session")
def tiny_whisper_dir(tmp_path_factory) -> Path:
    return build_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper"))


@pytest.fixture(scope="session")
def tiny_llm(tiny_llm_dir):
    from balsa_core.backbones import load_llm

    return load_llm(str(tiny_llm_dir))
