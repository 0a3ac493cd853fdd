"""Nonspeech7k: one multiple-choice item per clip of the metadata file."""

from __future__ import annotations

import pytest
from evaluation.loaders.benchmark_files import AUDIO, check_schema, write

from balsa_core.evaluation.loaders import NONSPEECH7K_CLASSES, BenchmarkFileError, load_nonspeech7k


def test_nonspeech7k_metadata(tmp_path):
    path = write(
        tmp_path / "metadata of test set.csv",
        "Filename,File ID,Duration in ms,Class ID,Classname\n"
        "cough_1.wav,1,4000,1,Cough\n"
        "yawn_7.wav,7,3000,6,yawm\n"
        "cry_2.wav,2,5000,2,crying\n",
    )
    items = load_nonspeech7k(path, AUDIO)
    check_schema(items, "nonspeech7k")
    assert items["answer"].tolist() == ["cough", "yawn", "crying"]
    assert items["choices"].iloc[0] == list(NONSPEECH7K_CLASSES)
    assert set(items["question"]) == {"What is the sound?"}
    assert items["audio_path"].iloc[0] == str(AUDIO / "cough_1.wav")
    other_names = write(tmp_path / "m.csv", "file_name,class_name\nx.wav,laugh\n")
    assert load_nonspeech7k(other_names, AUDIO, question="Which sound?")["question"].tolist() == ["Which sound?"]


def test_nonspeech7k_errors(tmp_path):
    with pytest.raises(BenchmarkFileError, match=r"m\.csv:2: 'Classname' 'whistle' is not one of"):
        load_nonspeech7k(write(tmp_path / "m.csv", "Filename,Classname\nx.wav,whistle\n"), AUDIO)
    with pytest.raises(BenchmarkFileError, match=r"m\.csv: no class name column"):
        load_nonspeech7k(write(tmp_path / "m.csv", "Filename,Class ID\nx.wav,1\n"), AUDIO)
