"""Audio hygiene, applied once per clip when a corpus becomes metadata.

Readers already reject missing, unreadable and empty files from their headers. Here, silent
files join them (a silent clip would teach the adapter that nothing maps to some caption),
and recordings longer than Whisper's 30 s window are cut to it or split into windows, each
window becoming a clip of its own (``clip_id#w<k>``, with its ``offset_s``).
Resampling and down-mixing happen where audio is decoded (``audio.load_audio``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import soundfile as sf

from balsa_core.readers.common import ReadResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HygieneSettings:
    max_clip_seconds: float = 30.0
    long_clips: Literal["cut", "split"] = "cut"
    min_window_seconds: float = 1.0  # a split's last window shorter than this is dropped
    reject_silent: bool = True
    silence_peak_dbfs: float = -60.0


@dataclass(frozen=True)
class HygieneReport:
    silent: int
    long_clips: int
    windows: int  # clips the long ones became (= long_clips when cutting)


def peak_dbfs(path: str, block_frames: int = 1 << 16) -> float:
    """Peak level in dBFS, read in blocks so long recordings need little memory."""
    peak = 0.0
    for block in sf.blocks(path, blocksize=block_frames, dtype="float32", always_2d=True):
        peak = max(peak, float(np.abs(block).max(initial=0.0)))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _split_silent(result: ReadResult, threshold_dbfs: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    levels = {path: peak_dbfs(path) for path in result.rows["audio_path"].unique()}
    level = result.rows["audio_path"].map(levels)
    silent = level < threshold_dbfs
    rejects = result.rows[silent].assign(
        source=result.rows.loc[silent, "seed_id"],
        reason=level[silent].map(lambda db: f"silent (peak {db:.1f} dBFS)"),
    )
    return result.rows[~silent], rejects[["corpus", "audio_path", "source", "reason"]]


def windows(duration_s: float, settings: HygieneSettings) -> list[tuple[float, float]]:
    """(offset, duration) of the clip(s) one recording becomes."""
    limit = settings.max_clip_seconds
    if not duration_s > limit:  # also true for NaN: an unprobed clip is left whole
        return [(0.0, duration_s)]
    if settings.long_clips == "cut":
        return [(0.0, limit)]
    spans = [(start, min(limit, duration_s - start)) for start in np.arange(0.0, duration_s, limit)]
    kept = [(float(start), float(length)) for start, length in spans if length >= settings.min_window_seconds]
    return kept or [(0.0, limit)]


def _windowed(rows: pd.DataFrame, settings: HygieneSettings) -> pd.DataFrame:
    clips = []
    for record in rows.to_dict("records"):
        split = settings.long_clips == "split" and record["duration_s"] > settings.max_clip_seconds
        for index, (offset, length) in enumerate(windows(record["duration_s"], settings)):
            suffix = f"#w{index}" if split else ""
            clips.append(
                {
                    **record,
                    "clip_id": record["clip_id"] + suffix,
                    "seed_id": record["seed_id"] + suffix,
                    # A reader's window (a manifest's offset_s) is where the clip's windows start.
                    "offset_s": record["offset_s"] + offset,
                    "duration_s": length,
                }
            )
    return pd.DataFrame(clips, columns=rows.columns)


def apply_hygiene(result: ReadResult, settings: HygieneSettings) -> tuple[ReadResult, HygieneReport]:
    rows, rejects = result.rows, result.rejects
    silent = 0
    if settings.reject_silent and not rows.empty:
        rows, silent_rejects = _split_silent(result, settings.silence_peak_dbfs)
        silent = silent_rejects["audio_path"].nunique()
        rejects = pd.concat([rejects, silent_rejects.astype("string")], ignore_index=True)
    long = rows.drop_duplicates("clip_id").query("duration_s > @settings.max_clip_seconds")
    report = HygieneReport(
        silent=silent,
        long_clips=len(long),
        windows=sum(len(windows(duration, settings)) for duration in long["duration_s"]),
    )
    windowed = _windowed(rows, settings)
    return ReadResult(rows=windowed, rejects=rejects.reset_index(drop=True)), report
