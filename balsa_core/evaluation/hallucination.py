"""Yes/no probing items for the audio hallucination benchmark.

Every true tag of a clip is a positive; randomly drawn absent tags are the
negatives (the papers' "random sampling" setting). Each (clip, object) pair is
asked in the four phrasings of the released benchmark files, in the same order
the released files use: per clip, per phrasing, positives then negatives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

PHRASINGS: tuple[str, ...] = (
    "Is there a sound of {object} in the audio?",
    "Does the audio contain the sound of {object}?",
    "Have you noticed the sound of {object} in the audio?",
    "Can you hear the sound of {object} in the audio?",
)

ITEM_COLUMNS = [
    "item_id",
    "clip_id",
    "audio_path",
    "object",
    "label",
    "phrasing",
    "question",
    "tags",
]
CLIP_COLUMNS = ("clip_id", "audio_path", "tags")


def build_hallucination_items(
    clips: pd.DataFrame,
    vocabulary: Sequence[str],
    negatives_per_clip: int,
    seed: int,
) -> pd.DataFrame:
    """One row per (clip, object, phrasing); see the module docstring for the layout."""
    _check_clips(clips, negatives_per_clip)
    candidates = _unique_nonblank(vocabulary)
    rows: list[dict] = []
    for clip in clips.itertuples(index=False):
        clip_id = str(clip.clip_id)
        tags = _unique_nonblank(_as_list(clip.tags))
        if not tags:
            raise ValueError(f"clip {clip_id!r} has no tags: it cannot give a positive item")
        negatives = draw_negatives(clip_id, tags, candidates, negatives_per_clip, seed)
        rows.extend(_clip_items(clip_id, str(clip.audio_path), tags, negatives))
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def draw_negatives(
    clip_id: str,
    tags: Sequence[str],
    vocabulary: Sequence[str],
    count: int,
    seed: int,
) -> list[str]:
    """Up to ``count`` vocabulary entries absent from ``tags``, uniform without replacement.

    The generator is seeded from (seed, clip_id) only, so adding, removing or
    reordering other clips never changes this clip's negatives.
    """
    present = {_key(tag) for tag in tags}
    absent = [word for word in vocabulary if _key(word) not in present]
    rng = np.random.default_rng([seed, _stable_int(clip_id)])
    picked = rng.choice(len(absent), size=min(count, len(absent)), replace=False)
    return [absent[index] for index in picked]


def _clip_items(clip_id: str, audio_path: str, tags: list[str], negatives: list[str]) -> list[dict]:
    labelled = [(tag, "yes") for tag in tags] + [(word, "no") for word in negatives]
    return [
        {
            "item_id": f"{clip_id}|{obj}|{phrasing}",
            "clip_id": clip_id,
            "audio_path": audio_path,
            "object": obj,
            "label": label,
            "phrasing": phrasing,
            "question": template.format(object=obj),
            "tags": list(tags),
        }
        for phrasing, template in enumerate(PHRASINGS)
        for obj, label in labelled
    ]


def _check_clips(clips: pd.DataFrame, negatives_per_clip: int) -> None:
    missing = [name for name in CLIP_COLUMNS if name not in clips.columns]
    if missing:
        raise ValueError(f"clips: missing column(s) {missing}")
    if negatives_per_clip < 0:
        raise ValueError(f"negatives_per_clip must be >= 0, got {negatives_per_clip}")
    # A repeated clip would repeat item_ids (e.g. a caption-level metadata table passed by mistake).
    repeated = clips["clip_id"][clips["clip_id"].duplicated()].astype(str).unique().tolist()
    if repeated:
        raise ValueError(f"clips: clip_id not unique: {repeated[:5]}")


def _as_list(tags: object) -> list[str]:
    # Parquet round trips give numpy arrays; a missing list reads back as None or NaN.
    if isinstance(tags, str):
        return [tags]
    if isinstance(tags, Iterable):
        return [str(tag) for tag in tags]
    return []


def _unique_nonblank(words: Iterable[str]) -> list[str]:
    """Stripped, non-empty, first occurrence kept: duplicates would bias a uniform draw."""
    seen: set[str] = set()
    unique: list[str] = []
    for word in (str(word).strip() for word in words):
        if word and _key(word) not in seen:
            seen.add(_key(word))
            unique.append(word)
    return unique


def _key(word: str) -> str:
    # "Dog" in the vocabulary must not become a negative for a clip tagged "dog".
    return word.strip().casefold()


def _stable_int(text: str) -> int:
    # hash() is salted per process; a digest keeps the draw reproducible across runs.
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
