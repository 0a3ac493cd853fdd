"""Tables of hand-written quality cases, turned into the metadata and targets the quality checks read."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def clip_tables(cases: Sequence[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cases are (seed texts of one clip, its tags, a target about it, expected flag): one clip per case.

    The metadata has a row per seed text; the targets a row per case, indexed from 10 rather than 0
    so that a result aligned by position instead of by index label would show.
    """
    metadata = pd.DataFrame(
        [
            {"clip_id": f"clip{number}", "seed_text": text, "tags": tags}
            for number, (seeds, tags, _, _) in enumerate(cases)
            for text in seeds
        ]
    )
    targets = pd.DataFrame(
        {"clip_ids": [[f"clip{number}"] for number in range(len(cases))], "target": [case[2] for case in cases]},
        index=pd.RangeIndex(10, 10 + len(cases)),
    )
    return metadata, targets
