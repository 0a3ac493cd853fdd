"""UrbanSound8K: ``metadata/UrbanSound8K.csv`` lists <= 4 s slices in ``audio/fold<n>/``, one class each.

The corpus comes in ten predefined folds; its authors ask that results be reported per fold,
never on reshuffled slices, since slices of one recording would leak across splits.
"""

from __future__ import annotations

from pathlib import Path

from balsa_core.readers.folds import FoldCorpus

URBANSOUND8K = FoldCorpus(
    reader="urbansound8k",
    annotation_file=Path("metadata") / "UrbanSound8K.csv",
    # The real header also has fsID, start, end, salience and classID; nothing here needs them.
    file_column="slice_file_name",
    class_column="class",
    folds=range(1, 11),
    default_test_folds=(10,),
    audio_dir="audio/fold{fold}",
)

annotation_files = URBANSOUND8K.annotation_files
read = URBANSOUND8K.read
