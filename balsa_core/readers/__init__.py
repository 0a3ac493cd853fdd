"""Corpus readers: each turns a corpus's own annotation files into metadata rows and rejects."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from balsa_core.metadata import validate_metadata
from balsa_core.readers import audiocaps, audioset, clotho, esc50, fsd50k, macs, manifest, urbansound8k, vocalsound
from balsa_core.readers.common import AnnotationError, ReadResult

__all__ = [
    "READERS",
    "AnnotationError",
    "CorpusReader",
    "ReadResult",
    "annotation_files",
    "read_corpus",
]


class CorpusReader(Protocol):
    def annotation_files(self, root: Path, options: Mapping[str, object]) -> list[Path]: ...

    def read(self, name: str, root: Path, options: Mapping[str, object]) -> ReadResult: ...


# The reader modules themselves satisfy the protocol through their module-level functions.
READERS: dict[str, CorpusReader] = {
    "audiocaps": audiocaps,
    "audioset": audioset,
    "clotho": clotho,
    "esc50": esc50,
    "fsd50k": fsd50k,
    "macs": macs,
    "manifest": manifest,
    "urbansound8k": urbansound8k,
    "vocalsound": vocalsound,
}

NO_OPTIONS: Mapping[str, object] = MappingProxyType({})


def _reader(reader: str) -> CorpusReader:
    try:
        return READERS[reader]
    except KeyError:
        raise ValueError(f"unknown reader {reader!r}; known readers: {sorted(READERS)}") from None


def annotation_files(reader: str, root: Path | str, options: Mapping[str, object] = NO_OPTIONS) -> list[Path]:
    """The annotation files ``read_corpus`` would read, for use as workflow inputs."""
    return _reader(reader).annotation_files(Path(root), options)


def read_corpus(name: str, reader: str, root: Path | str, options: Mapping[str, object] = NO_OPTIONS) -> ReadResult:
    """Read corpus ``name`` at ``root`` with ``reader``; ``name`` prefixes all clip and seed ids."""
    # The name is the first part of "<corpus>/<clip>" ids; a slash in it would make them ambiguous.
    if not name or "/" in name:
        raise ValueError(f"corpus name must be non-empty and contain no '/', got {name!r}")
    result = _reader(reader).read(name, Path(root), options)
    validate_metadata(result.rows, where=f"corpus {name!r} ({reader} reader at {root})")
    return result
