"""Yes/no probing items for the audio hallucination benchmark, built from any tagged corpus.

Every true tag of a clip is a positive; absent tags are the negatives, drawn with one of
POPE's three samplings, as in the released benchmark files:

* ``random``: uniformly among the vocabulary's absent tags;
* ``popular``: the absent tags that are most frequent over the corpus;
* ``adversarial``: the absent tags that co-occur most often with the clip's own tags.

Each (clip, object) pair is asked in the four phrasings of the released files, in their
order: per clip, per phrasing, positives then negatives.
"""

from __future__ import annotations

import hashlib
from collections import Counter
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
SAMPLINGS = ("random", "popular", "adversarial")


def build_hallucination_items(
    clips: pd.DataFrame,
    vocabulary: Sequence[str],
    negatives_per_clip: int,
    seed: int,
    sampling: str = "random",
    corpus_tags: Iterable[Iterable[str]] | None = None,
) -> pd.DataFrame:
    """One row per (clip, object, phrasing); see the module docstring for the layout.

    ``corpus_tags`` (one tag list per clip) gives the frequencies and co-occurrences that
    ``popular`` and ``adversarial`` rank by; by default the clips' own tags.
    """
    _check_clips(clips, negatives_per_clip)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling {sampling!r}; expected one of {SAMPLINGS}")
    candidates = _unique_nonblank(vocabulary)
    tag_lists = [_unique_nonblank(_as_list(tags)) for tags in (clips["tags"] if corpus_tags is None else corpus_tags)]
    statistics = TagStatistics.count(tag_lists)
    rows: list[dict] = []
    for clip in clips.itertuples(index=False):
        clip_id = str(clip.clip_id)
        tags = _unique_nonblank(_as_list(clip.tags))
        if not tags:
            raise ValueError(f"clip {clip_id!r} has no tags: it cannot give a positive item")
        if sampling == "random":
            negatives = draw_negatives(clip_id, tags, candidates, negatives_per_clip, seed)
        else:
            negatives = statistics.ranked_negatives(tags, candidates, negatives_per_clip, sampling)
        rows.extend(_clip_items(clip_id, str(clip.audio_path), tags, negatives))
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


class TagStatistics:
    """How often each tag occurs over a corpus, and how often two tags share a clip."""

    def __init__(self, frequency: Counter[str], together: Counter[tuple[str, str]]) -> None:
        self.frequency = frequency
        self.together = together

    @classmethod
    def count(cls, tag_lists: Iterable[Sequence[str]]) -> TagStatistics:
        frequency: Counter[str] = Counter()
        together: Counter[tuple[str, str]] = Counter()
        for tags in tag_lists:
            keys = sorted({_key(tag) for tag in tags})
            frequency.update(keys)
            together.update((a, b) for a in keys for b in keys if a != b)
        return cls(frequency, together)

    def ranked_negatives(self, tags: Sequence[str], vocabulary: Sequence[str], count: int, sampling: str) -> list[str]:
        """The ``count`` absent vocabulary entries ranked first: by corpus frequency
        (``popular``), or by co-occurrence with ``tags`` then frequency (``adversarial``);
        ties go to the vocabulary's order, so the result is deterministic."""
        present = {_key(tag) for tag in tags}
        absent = [word for word in vocabulary if _key(word) not in present]

        def rank(word: str) -> tuple[int, ...]:
            key = _key(word)
            if sampling == "adversarial":
                return (-sum(self.together[(own, key)] for own in present), -self.frequency[key])
            return (-self.frequency[key],)

        return sorted(absent, key=rank)[:count]


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
