"""ESC-50: ``meta/esc50.csv`` lists 5 s clips in ``audio/``, one category each, in 5 folds."""

from __future__ import annotations

from pathlib import Path

from balsa_core.readers.folds import FoldCorpus

ESC50 = FoldCorpus(
    reader="esc50",
    annotation_file=Path("meta") / "esc50.csv",
    # The real header also has target, esc10, src_file and take; nothing here needs them.
    file_column="filename",
    class_column="category",
    folds=range(1, 6),
    default_test_folds=(5,),
    audio_dir="audio",
)

annotation_files = ESC50.annotation_files
read = ESC50.read
