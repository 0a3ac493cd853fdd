"""balsa_core.readers itself: the registry of readers and read_corpus / annotation_files over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from balsa_core.readers import READERS, annotation_files, read_corpus


def test_registry_has_the_eight_corpora_and_the_manifest_reader_the_config_schema_accepts() -> None:
    from balsa_core.config import load_schema

    schema_readers = load_schema()["properties"]["corpora"]["additionalProperties"]["properties"]["reader"]["enum"]
    assert (
        set(READERS)
        == set(schema_readers)
        == {
            "audioset",
            "audiocaps",
            "clotho",
            "macs",
            "manifest",
            "fsd50k",
            "esc50",
            "urbansound8k",
            "vocalsound",
        }
    )


def test_annotation_files(tmp_path: Path) -> None:
    assert annotation_files("esc50", tmp_path, {}) == [tmp_path / "meta" / "esc50.csv"]
    assert annotation_files("audiocaps", tmp_path, {}) == [
        tmp_path / "train.csv",
        tmp_path / "val.csv",
        tmp_path / "test.csv",
    ]
    assert annotation_files("audiocaps", str(tmp_path), {"splits": ["test"]}) == [tmp_path / "test.csv"]


def test_unknown_reader_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown reader 'wav2vec'") as raised:
        read_corpus("wav2vec", "wav2vec", tmp_path)
    assert "audiocaps" in str(raised.value) and "esc50" in str(raised.value)
    with pytest.raises(ValueError, match="unknown reader"):
        annotation_files("wav2vec", tmp_path, {})


@pytest.mark.parametrize("name", ["", "a/b"])
def test_corpus_name_must_be_an_id_prefix(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="corpus name"):
        read_corpus(name, "esc50", tmp_path)
