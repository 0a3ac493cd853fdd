"""Reading audio files: a cheap header probe and a full load to float32 mono."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

MISSING_FILE = "missing audio file"
EMPTY_FILE = "empty audio file (0 bytes)"
EMPTY_AUDIO = "empty audio file (0 frames)"
UNREADABLE_PREFIX = "unreadable audio file"


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    frames: int
    channels: int
    duration_s: float


def clip_window(offset_s: float | None, duration_s: float | None) -> tuple[float, float | None]:
    """A manifest row's window as ``load_audio`` takes it: metadata leaves the offset and the
    duration empty (None, or NaN once in a DataFrame) for a whole file, read from 0 to its end."""
    offset = 0.0 if offset_s is None or np.isnan(offset_s) else float(offset_s)
    return offset, None if duration_s is None or np.isnan(duration_s) else float(duration_s)


class AudioError(ValueError):
    """An audio file cannot be used; ``reason`` is short enough to go into a rejects table."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def _unreadable(path: Path, error: sf.SoundFileError) -> AudioError:
    # libsndfile's own message repeats the path; its error_string is just the cause.
    detail = getattr(error, "error_string", None) or str(error)
    return AudioError(path, f"{UNREADABLE_PREFIX}: {detail}")


def _check_exists_and_nonempty(path: Path) -> None:
    # libsndfile reports a missing file as "System error" and a 0-byte file as an
    # unknown format; naming both plainly makes rejects tables readable.
    if not path.is_file():
        raise AudioError(path, MISSING_FILE)
    if path.stat().st_size == 0:
        raise AudioError(path, EMPTY_FILE)


def probe_audio(path: Path | str) -> AudioInfo:
    """Read only the header of ``path``; raise AudioError if it is missing, unreadable or empty."""
    path = Path(path)
    _check_exists_and_nonempty(path)
    try:
        info = sf.info(str(path))
    except sf.SoundFileError as error:
        raise _unreadable(path, error) from error
    if info.frames <= 0:
        raise AudioError(path, EMPTY_AUDIO)
    return AudioInfo(
        sample_rate=int(info.samplerate),
        frames=int(info.frames),
        channels=int(info.channels),
        duration_s=info.frames / info.samplerate,
    )


def load_audio(
    path: Path | str, target_sr: int = 16000, offset_s: float = 0.0, duration_s: float | None = None
) -> np.ndarray:
    """Load ``path`` (or the window ``offset_s`` .. ``offset_s + duration_s`` of it) as float32
    mono in [-1, 1] at ``target_sr`` Hz."""
    if target_sr <= 0:
        raise ValueError(f"target_sr must be positive, got {target_sr}")
    path = Path(path)
    _check_exists_and_nonempty(path)
    try:
        with sf.SoundFile(str(path)) as audio:
            audio.seek(round(offset_s * audio.samplerate))
            frames = -1 if duration_s is None else round(duration_s * audio.samplerate)
            samples = audio.read(frames, dtype="float32", always_2d=True)
            sample_rate = audio.samplerate
    except sf.SoundFileError as error:
        raise _unreadable(path, error) from error
    if samples.shape[0] == 0:
        raise AudioError(path, EMPTY_AUDIO)
    mono = samples.mean(axis=1, dtype=np.float32)
    if sample_rate != target_sr:
        mono = soxr.resample(mono, sample_rate, target_sr)
    # The resampling filter can overshoot slightly past full scale on clipped input.
    return np.clip(mono, -1.0, 1.0).astype(np.float32, copy=False)
