"""VocalSound: recordings of six human vocal sounds, each labelled in its own file name.

There is no annotation table: ``audio_16k/f0003_0_cough.wav`` is speaker f0003, take 0,
label cough. The release's speaker-disjoint split is in ``datafiles/{tr,val,te}.json``,
each ``{"data": [{"wav": <path>, "labels": <AudioSet mid>}, ...]}`` (the layout of
github.com/YuanGongND/vocalsound); a copy without them reads as all train.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from balsa_core.metadata import SPLITS
from balsa_core.readers.common import AnnotationError, ReaderOptions, ReadResult, probe_seeds, tags_seed

READER = "vocalsound"
LABEL_TAGS = {
    "laughter": "laughter",
    "sigh": "sigh",
    "cough": "cough",
    "throatclearing": "throat clearing",
    "sneeze": "sneeze",
    "sniff": "sniff",
}
FILE_STEM = re.compile(r"(?P<speaker>[a-z]+\d+)_(?P<take>\d+)_(?P<label>[a-z]+)")
OFFICIAL_SPLIT_FILES = {
    "train": Path("datafiles") / "tr.json",
    "val": Path("datafiles") / "val.json",
    "test": Path("datafiles") / "te.json",
}
UNRECOGNISED_NAME = "unrecognised file name"
IN_NO_SPLIT_FILE = "listed in no split file"


@dataclass(frozen=True)
class VocalSoundOptions:
    audio_dir: Path
    # Empty: no split files, every recording is train.
    split_files: Mapping[str, Path]
    probe_audio: bool


@dataclass(frozen=True)
class Listing:
    """Where a split file puts one recording."""

    split: str
    source: str


def _official_split_files(root: Path) -> dict[str, Path]:
    files = {split: root / relative for split, relative in OFFICIAL_SPLIT_FILES.items()}
    # All three or none: with only some present, reading names the missing one.
    if not any(path.is_file() for path in files.values()):
        return {}
    return files


def _split_files_option(root: Path, given: ReaderOptions) -> dict[str, Path]:
    if "split_files" not in given:
        return _official_split_files(root)
    value = given.get("split_files")
    if (
        not isinstance(value, Mapping)
        or any(split not in SPLITS for split in value)
        or not all(isinstance(path, (str, Path)) for path in value.values())
    ):
        raise given.error("split_files", f"must map splits among {SPLITS} to file paths, got {value!r}")
    # A relative path is inside the corpus root; an absolute one replaces it.
    return {split: root / path for split, path in value.items()}


def parse_options(root: Path, options: Mapping[str, object]) -> VocalSoundOptions:
    given = ReaderOptions(READER, options, ("audio_dir", "split_files", "probe_audio"))
    root = Path(root)
    return VocalSoundOptions(
        audio_dir=given.path(root, "audio_dir", "audio_16k"),
        split_files=_split_files_option(root, given),
        probe_audio=given.probe_audio,
    )


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    return list(parse_options(root, options).split_files.values())


def stem_tag(stem: str) -> str | None:
    """The readable tag a file stem stands for, or None if the stem is not speaker_take_label."""
    match = FILE_STEM.fullmatch(stem)
    return LABEL_TAGS.get(match["label"]) if match else None


def listed_file_names(path: Path) -> list[str]:
    """The recordings a split file lists, as bare file names in list order."""
    if not path.is_file():
        raise AnnotationError(f"{path}: split file not found")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AnnotationError(f"{path}: not a readable JSON file ({error})") from error
    entries = document.get("data") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise AnnotationError(f"{path}: missing key 'data' (a list of {{'wav': <path>}} entries)")
    names = []
    for position, entry in enumerate(entries):
        wav = entry.get("wav") if isinstance(entry, dict) else None
        if not isinstance(wav, str) or not wav.strip():
            raise AnnotationError(f"{path}: data[{position}] has no 'wav' path")
        # The release's paths point into its authors' machines; only the file name carries over.
        # PureWindowsPath splits on both separators.
        names.append(PureWindowsPath(wav.strip()).name)
    return names


def split_listings(split_files: Mapping[str, Path]) -> dict[str, Listing]:
    listings: dict[str, Listing] = {}
    for split, path in split_files.items():
        for position, file_name in enumerate(listed_file_names(path)):
            earlier = listings.setdefault(file_name, Listing(split, f"{path}:data[{position}]"))
            if earlier.split != split:
                raise AnnotationError(f"{path}: {file_name!r} is {split} here but {earlier.split} in {earlier.source}")
    return listings


def wav_file_names(audio_dir: Path) -> list[str]:
    if not audio_dir.is_dir():
        raise AnnotationError(f"{audio_dir}: audio directory not found (the labels are in its file names)")
    return [path.name for path in audio_dir.glob("*.wav") if path.is_file()]


def _reject(corpus: str, audio_path: Path, source: str, reason: str) -> dict[str, object]:
    return {"corpus": corpus, "audio_path": str(audio_path), "source": source, "reason": reason}


def _seed(corpus: str, audio_path: Path, split: str, source: str, tag: str) -> dict[str, object]:
    return tags_seed(f"{corpus}/{audio_path.stem}", corpus, split, audio_path, [tag], source)


def _seed_or_reject(
    corpus: str, options: VocalSoundOptions, listings: Mapping[str, Listing], file_name: str
) -> dict[str, object]:
    """The recording's seed, or its reject (the one with a ``reason``) if its name or split is unknown."""
    audio_path = options.audio_dir / file_name
    listing = listings.get(file_name)
    source = listing.source if listing else str(audio_path)
    tag = stem_tag(audio_path.stem)
    if tag is None:
        return _reject(corpus, audio_path, source, UNRECOGNISED_NAME)
    if listing is None and options.split_files:
        return _reject(corpus, audio_path, source, IN_NO_SPLIT_FILE)
    return _seed(corpus, audio_path, listing.split if listing else "train", source, tag)


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    parsed = parse_options(root, options)
    listings = split_listings(parsed.split_files)
    # Listed recordings absent from the directory stay in, so a partial unpack shows up as rejects.
    file_names = sorted(set(wav_file_names(parsed.audio_dir)) | set(listings))
    outcomes = [_seed_or_reject(name, parsed, listings, file_name) for file_name in file_names]
    return probe_seeds(
        [outcome for outcome in outcomes if "reason" not in outcome],
        probe=parsed.probe_audio,
        rejects=[outcome for outcome in outcomes if "reason" in outcome],
    )
