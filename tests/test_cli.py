import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from balsa_core.cli import main


def write_corpus_with_bad_files(root):
    (root / "meta").mkdir(parents=True)
    (root / "audio").mkdir()
    tone = (0.3 * np.sin(np.arange(16000) / 5)).astype("float32")
    for name in ("a.wav", "b.wav", "c.wav"):
        sf.write(root / "audio" / name, tone, 16000)
    (root / "audio" / "corrupt.wav").write_bytes(b"RIFF....WAVEfmt not really")
    (root / "audio" / "empty.wav").write_bytes(b"")
    rows = [
        f"{name},1,0,dog,False,{i},A" for i, name in enumerate(["a.wav", "b.wav", "corrupt.wav", "c.wav", "empty.wav"])
    ]
    (root / "meta" / "esc50.csv").write_text(
        "filename,fold,target,category,esc10,src_file,take\n" + "\n".join(rows) + "\n"
    )


def config_for(corpus_root) -> dict:
    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    del config["demo_corpus"]
    config["evaluation"]["benchmarks"] = {}  # the demo benchmarks come with the demo corpus
    config["pairs"].pop("corpora")  # so do the demo's pair caps, which name its corpora
    config["corpora"] = {"esc": {"reader": "esc50", "root": str(corpus_root)}}
    return config


def test_metadata_command_keeps_good_rows_and_reports_bad_files(tmp_path, monkeypatch, request):
    monkeypatch.chdir(request.config.rootpath)
    write_corpus_with_bad_files(tmp_path / "esc")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config_for(tmp_path / "esc")))
    out, rejects = tmp_path / "esc.parquet", tmp_path / "esc.rejects.parquet"
    status = main(["--config", str(config_path), "metadata", "esc", "--metadata", str(out), "--rejects", str(rejects)])
    assert status == 0
    assert sorted(pd.read_parquet(out)["clip_id"]) == ["esc/a", "esc/b", "esc/c"]
    reasons = pd.read_parquet(rejects).set_index("audio_path")["reason"]
    assert reasons[str(tmp_path / "esc/audio/corrupt.wav")].startswith("unreadable")
    assert reasons[str(tmp_path / "esc/audio/empty.wav")].startswith("empty")


def test_a_bad_config_is_one_line(tmp_path, monkeypatch, request):
    monkeypatch.chdir(request.config.rootpath)
    config = config_for(tmp_path / "missing")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    with pytest.raises(SystemExit, match=r"corpora\.esc\.root: directory not found"):
        main(["--config", str(config_path), "metadata", "esc", "--metadata", "x", "--rejects", "y"])


def test_a_wildcard_the_config_lacks_is_named(tmp_path, monkeypatch, request):
    monkeypatch.chdir(request.config.rootpath)
    write_corpus_with_bad_files(tmp_path / "esc")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config_for(tmp_path / "esc")))
    with pytest.raises(SystemExit, match=r"no corpus 'clotho' in .*config\.yaml; there are \['esc'\]"):
        main(["--config", str(config_path), "metadata", "clotho", "--metadata", "x", "--rejects", "y"])


def test_the_command_line_starts_without_torch():
    """Its table stages start in a second: only the stages that load a model import torch."""
    probe = "import sys, balsa_core.cli; print('torch' in sys.modules, 'transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
