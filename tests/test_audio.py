from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import write_wav

from balsa_core.audio import AudioError, AudioInfo, clip_window, load_audio, probe_audio


def sine(sample_rate: int, seconds: float, amplitude: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_probe_reads_the_header(tmp_path: Path) -> None:
    stereo = np.stack([sine(44100, 0.5, 0.5)] * 2, axis=1)
    path = write_wav(tmp_path / "stereo.wav", sample_rate=44100, samples=stereo)

    assert probe_audio(path) == AudioInfo(sample_rate=44100, frames=22050, channels=2, duration_s=0.5)


@pytest.mark.parametrize(
    ("make_file", "reason"),
    [
        (lambda path: None, "missing audio file"),
        (lambda path: path.write_bytes(b""), "empty audio file (0 bytes)"),
        (
            lambda path: sf.write(path, np.zeros((0, 1), np.float32), 16000),
            "empty audio file (0 frames)",
        ),
        (
            lambda path: path.write_bytes(np.random.default_rng(0).bytes(2048)),
            "unreadable audio file",
        ),
    ],
    ids=["missing", "zero-bytes", "zero-frames", "random-bytes"],
)
def test_probe_rejects_bad_files_naming_file_and_reason(tmp_path: Path, make_file, reason: str) -> None:
    path = tmp_path / "bad.wav"
    make_file(path)

    with pytest.raises(AudioError) as raised:
        probe_audio(path)

    assert raised.value.reason.startswith(reason)
    assert str(path) in str(raised.value)
    assert reason in str(raised.value)


def test_audio_error_is_a_value_error() -> None:
    assert issubclass(AudioError, ValueError)


def test_load_downmixes_and_resamples_44k_stereo_to_16k_mono(tmp_path: Path) -> None:
    left = sine(44100, 1.0, 0.8)
    silent_right = np.zeros_like(left)
    path = write_wav(tmp_path / "stereo.wav", sample_rate=44100, samples=np.stack([left, silent_right], axis=1))

    audio = load_audio(path)

    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert abs(len(audio) - 16000) <= 1
    # The mean of a 0.8 sine and silence peaks at 0.4: neither a sum nor one channel.
    assert np.max(np.abs(audio)) == pytest.approx(0.4, abs=0.02)


def test_load_keeps_samples_at_the_native_rate(tmp_path: Path) -> None:
    samples = sine(16000, 0.25, 0.5)
    path = write_wav(tmp_path / "mono.wav", sample_rate=16000, subtype="FLOAT", samples=samples)

    np.testing.assert_array_equal(load_audio(path, target_sr=16000), samples)


def test_load_honours_target_rate(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "mono.wav", sample_rate=16000, samples=sine(16000, 1.0, 0.5))

    assert abs(len(load_audio(path, target_sr=8000)) - 8000) <= 1


def test_load_stays_within_full_scale_after_resampling(tmp_path: Path) -> None:
    # A full-scale square wave makes the resampling filter ring past +-1.
    square = np.sign(sine(44100, 0.5, 1.0, hz=1000.0))
    path = write_wav(tmp_path / "square.wav", sample_rate=44100, subtype="FLOAT", samples=square)

    audio = load_audio(path)

    assert np.max(np.abs(audio)) <= 1.0


def test_load_raises_audio_error_for_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(np.random.default_rng(1).bytes(4096))

    with pytest.raises(AudioError, match="unreadable audio file") as raised:
        load_audio(path)
    assert str(path) in str(raised.value)


def test_load_raises_audio_error_for_empty_audio(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "empty.wav", sample_rate=44100, samples=np.zeros((0, 2), np.float32))

    with pytest.raises(AudioError, match="0 frames"):
        load_audio(path)


def test_load_rejects_a_non_positive_target_rate(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "mono.wav", sample_rate=16000, samples=sine(16000, 0.1, 0.5))

    with pytest.raises(ValueError, match="target_sr"):
        load_audio(path, target_sr=0)


@pytest.mark.parametrize(
    ("offset", "duration", "window"),
    [
        (None, None, (0.0, None)),
        (float("nan"), float("nan"), (0.0, None)),
        (2, 10, (2.0, 10.0)),
        (1.5, None, (1.5, None)),
    ],
    ids=["none", "nan-from-a-dataframe", "set", "offset-to-the-end"],
)
def test_an_empty_window_is_the_whole_file(offset, duration, window) -> None:
    assert clip_window(offset, duration) == window
