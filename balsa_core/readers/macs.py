"""MACS: ``MACS.yaml`` gives 2-5 annotators' sentences and tags for TAU Urban Acoustic Scenes 2019 clips.

The YAML is ``files:`` a list of ``{filename, annotations: [{annotator_id, sentence, tags}]}``;
the audio is the TAU 2019 development set, which the user unpacks into ``audio_dir``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from balsa_core.metadata import SPLITS
from balsa_core.readers.common import (
    AnnotationError,
    ReaderOptions,
    ReadResult,
    caption_seed,
    probe_seeds,
    readable_tag,
)

READER = "macs"
ANNOTATION_FILE = "MACS.yaml"
CAPTION_CHOICES = ("all", "first")
# The C loader reads the few-megabyte file several times faster; PyYAML may lack it.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class MacsOptions:
    audio_dir: Path
    split: str
    first_caption_only: bool
    probe_audio: bool


def parse_options(root: Path, options: Mapping[str, object]) -> MacsOptions:
    given = ReaderOptions(READER, options, ("audio_dir", "split", "captions", "probe_audio"))
    split = given.choice("split", SPLITS, "train")
    captions = given.choice("captions", CAPTION_CHOICES, "all")
    return MacsOptions(
        # A relative audio_dir is inside the corpus root; an absolute one replaces it.
        audio_dir=given.path(root, "audio_dir", "audio"),
        split=split,
        first_caption_only=captions == "first",
        probe_audio=given.probe_audio,
    )


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    parse_options(root, options)
    return [Path(root) / ANNOTATION_FILE]


def load_yaml(path: Path) -> object:
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=YAML_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise AnnotationError(f"{path}: not a readable YAML file ({error})") from error


def _value(path: Path, where: str, entry: object, key: str) -> object:
    if not isinstance(entry, dict):
        raise AnnotationError(f"{path}: {where} is not a mapping, got {entry!r}")
    if key not in entry:
        raise AnnotationError(f"{path}: {where} has no {key!r} key; found {sorted(map(str, entry))}")
    return entry[key]


def _text(path: Path, where: str, entry: object, key: str) -> str:
    value = _value(path, where, entry, key)
    if not isinstance(value, str) or not value.strip():
        raise AnnotationError(f"{path}: {where}: {key!r} must be non-empty text, got {value!r}")
    return value.strip()


def _list(path: Path, where: str, entry: object, key: str) -> list[object]:
    value = _value(path, where, entry, key)
    if not isinstance(value, list):
        raise AnnotationError(f"{path}: {where}: {key!r} must be a list, got {value!r}")
    return value


def _annotation_tags(path: Path, where: str, annotation: object) -> list[str]:
    tags = _list(path, where, annotation, "tags")
    # YAML reads an unquoted tag such as "no" or "1" as a bool or a number; none is expected here.
    wrong = [tag for tag in tags if not isinstance(tag, str) or not tag.strip()]
    if wrong:
        raise AnnotationError(f"{path}: {where}: 'tags' must list non-empty text, got {wrong}")
    return [readable_tag(tag) for tag in tags]


def _clip_seeds(corpus: str, path: Path, position: int, entry: object, options: MacsOptions) -> list[dict[str, object]]:
    where = f"files[{position}]"
    filename = _text(path, where, entry, "filename")
    where = f"files[{position}] ({filename})"
    annotations = _list(path, where, entry, "annotations")
    if not annotations:
        raise AnnotationError(f"{path}: {where}: 'annotations' is empty")
    places = [f"{where}.annotations[{number}]" for number in range(len(annotations))]
    sentences = [_text(path, place, annotation, "sentence") for place, annotation in zip(places, annotations)]
    # The clip's tags are every annotator's, each once, in the order they first appear.
    tags = list(
        dict.fromkeys(
            tag for place, annotation in zip(places, annotations) for tag in _annotation_tags(path, place, annotation)
        )
    )
    clip_id = f"{corpus}/{Path(filename).stem}"
    kept = sentences[:1] if options.first_caption_only else sentences
    return [
        caption_seed(
            seed_id=f"{clip_id}#{number}",
            clip_id=clip_id,
            corpus=corpus,
            split=options.split,
            audio_path=options.audio_dir / filename,
            caption=sentence,
            tags=tags,
            source=f"{path}:{place}",
        )
        for number, (place, sentence) in enumerate(zip(places, kept), start=1)
    ]


def file_entries(path: Path, document: object) -> list[object]:
    if not isinstance(document, dict):
        raise AnnotationError(f"{path}: expected a mapping with a 'files' list, got {type(document).__name__}")
    return _list(path, "the document", document, "files")


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    root = Path(root)
    parsed = parse_options(root, options)
    path = root / ANNOTATION_FILE
    entries = file_entries(path, load_yaml(path))
    seeds = [
        seed for position, entry in enumerate(entries) for seed in _clip_seeds(name, path, position, entry, parsed)
    ]
    return probe_seeds(seeds, probe=parsed.probe_audio)
