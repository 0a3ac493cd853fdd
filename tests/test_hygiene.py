import math

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from balsa_core.audio import load_audio
from balsa_core.hygiene import HygieneSettings, apply_hygiene, peak_dbfs, windows
from balsa_core.metadata import validate_metadata
from balsa_core.readers import read_corpus
from balsa_core.readers.common import ReadResult


def write_esc50(root, clips: dict[str, np.ndarray], rate: int = 16000) -> None:
    (root / "meta").mkdir(parents=True)
    (root / "audio").mkdir()
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for index, (name, samples) in enumerate(clips.items()):
        sf.write(root / "audio" / name, samples, rate)
        lines.append(f"{name},{1 + index % 5},0,dog,False,{index},A")
    (root / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")


def tone(seconds: float, rate: int = 16000, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype("float32")


def test_windows_cut_split_and_leave_short_clips_whole():
    cut = HygieneSettings(max_clip_seconds=30, long_clips="cut")
    split = HygieneSettings(max_clip_seconds=30, long_clips="split", min_window_seconds=1.0)
    assert windows(12.0, cut) == [(0.0, 12.0)]
    assert windows(75.0, cut) == [(0.0, 30.0)]
    assert windows(75.0, split) == [(0.0, 30.0), (30.0, 30.0), (60.0, 15.0)]
    assert windows(60.5, split) == [(0.0, 30.0), (30.0, 30.0)], "a 0.5 s tail is dropped"
    assert math.isnan(windows(float("nan"), split)[0][1])


def test_silent_file_is_rejected_and_the_corpus_goes_on(tmp_path):
    write_esc50(tmp_path, {"loud.wav": tone(1.0), "quiet.wav": np.zeros(16000, dtype="float32")})
    result, report = apply_hygiene(read_corpus("c", "esc50", tmp_path), HygieneSettings())
    assert list(result.rows["clip_id"]) == ["c/loud"]
    assert report.silent == 1
    (reason,) = result.rejects["reason"]
    assert reason.startswith("silent")
    assert peak_dbfs(str(tmp_path / "audio" / "loud.wav")) == pytest.approx(-6.02, abs=0.05)


def test_long_recordings_split_into_windows_that_load(tmp_path):
    write_esc50(tmp_path, {"long.wav": tone(65.0), "short.wav": tone(2.0)})
    settings = HygieneSettings(long_clips="split")
    result, report = apply_hygiene(read_corpus("c", "esc50", tmp_path), settings)
    rows = result.rows.set_index("clip_id")
    assert list(rows.index) == ["c/long#w0", "c/long#w1", "c/long#w2", "c/short"]
    assert list(rows["offset_s"]) == [0.0, 30.0, 60.0, 0.0]
    assert list(rows["duration_s"]) == pytest.approx([30.0, 30.0, 5.0, 2.0])
    assert (report.long_clips, report.windows) == (1, 3)
    validate_metadata(result.rows)
    window = load_audio(rows.loc["c/long#w2", "audio_path"], offset_s=60.0, duration_s=5.0)
    assert len(window) == 5 * 16000


def test_cut_keeps_one_clip_per_recording(tmp_path):
    write_esc50(tmp_path, {"long.wav": tone(45.0)})
    result, report = apply_hygiene(read_corpus("c", "esc50", tmp_path), HygieneSettings(long_clips="cut"))
    assert list(result.rows["clip_id"]) == ["c/long"]
    assert list(result.rows["duration_s"]) == [30.0]
    assert (report.long_clips, report.windows) == (1, 1)


def test_channels_and_rate_come_from_the_header(tmp_path):
    (tmp_path / "meta").mkdir()
    (tmp_path / "audio").mkdir()
    sf.write(tmp_path / "audio" / "stereo.wav", np.stack([tone(1.0, 44100)] * 2, axis=1), 44100, subtype="PCM_24")
    (tmp_path / "meta" / "esc50.csv").write_text(
        "filename,fold,target,category,esc10,src_file,take\nstereo.wav,1,0,dog,False,1,A\n"
    )
    rows = read_corpus("c", "esc50", tmp_path).rows
    assert (rows["channels"].iloc[0], rows["sample_rate"].iloc[0]) == (2, 44100)


def test_corrupt_and_empty_files_become_rejects_with_reasons(tmp_path):
    write_esc50(tmp_path, {"good.wav": tone(1.0), "also_good.wav": tone(1.5)})
    lines = (tmp_path / "meta" / "esc50.csv").read_text().splitlines()
    (tmp_path / "audio" / "corrupt.wav").write_bytes(b"RIFF\x00\x01garbage that is not audio")
    (tmp_path / "audio" / "empty.wav").write_bytes(b"")
    lines += ["corrupt.wav,1,0,dog,False,7,A", "empty.wav,1,0,dog,False,8,A"]
    (tmp_path / "meta" / "esc50.csv").write_text("\n".join(lines) + "\n")
    result, _ = apply_hygiene(read_corpus("c", "esc50", tmp_path), HygieneSettings())
    assert sorted(result.rows["clip_id"]) == ["c/also_good", "c/good"]
    reasons = dict(zip(result.rejects["audio_path"].map(lambda p: p.rsplit("/", 1)[1]), result.rejects["reason"]))
    assert set(reasons) == {"corrupt.wav", "empty.wav"}
    assert reasons["corrupt.wav"].startswith("unreadable") and reasons["empty.wav"].startswith("empty")


def test_nothing_to_do_on_an_empty_result():
    empty = ReadResult(
        rows=pd.DataFrame(columns=["clip_id", "seed_id", "audio_path", "duration_s"]),
        rejects=pd.DataFrame(columns=["corpus", "audio_path", "source", "reason"]),
    )
    result, report = apply_hygiene(empty, HygieneSettings())
    assert result.rows.empty and report.silent == 0
