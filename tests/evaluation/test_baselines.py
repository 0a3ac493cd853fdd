"""``answer_with_endpoint`` reads and encodes a clip's window once however many items ask about it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from balsa_core.evaluation import baselines
from balsa_core.generation.backend import Completion
from balsa_core.settings import Endpoint


class EchoBackend:
    def __init__(self, **_: object) -> None:
        pass

    def generate(self, messages, settings):
        return [Completion(text=message[1]["text"], num_tokens=None, finished=True) for message in messages]


def test_each_clip_window_is_encoded_once_per_round(tmp_path: Path, monkeypatch) -> None:
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.zeros(32000, dtype=np.float32), 16000)
    encoded = []
    clip_wav = baselines.clip_wav
    monkeypatch.setattr(baselines, "clip_wav", lambda *window: encoded.append(window) or clip_wav(*window))
    monkeypatch.setattr(baselines, "OpenAICompatibleBackend", EchoBackend)
    items = pd.DataFrame(
        {
            "audio_path": [str(clip)] * 4,
            "offset_s": [0.0, 0.0, 1.0, 0.0],
            "duration_s": [np.nan, np.nan, 1.0, np.nan],
            "prompt": ["a", "b", "c", "d"],
        }
    )

    replies = baselines.answer_with_endpoint(Endpoint(base_url="http://unused", model="m"), items, 8)

    assert replies == ["a", "b", "c", "d"]
    assert encoded == [(str(clip), 0.0, None), (str(clip), 1.0, 1.0)]
