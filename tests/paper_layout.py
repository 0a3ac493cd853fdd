"""The eight corpora and every benchmark as their releases unpack (empty files, audio folders):
the tree the paper configuration is dry-run on."""

from pathlib import Path

from balsa_core.evaluation.loaders.classification import COCHLSCENE_SCENES

# Each release as it unpacks: annotation files (empty here) and audio folders.
OFFICIAL_LAYOUT_FILES = [
    "data/raw/audioset/balanced_train_segments.csv",
    "data/raw/audioset/eval_segments.csv",
    "data/raw/audioset/ontology.json",
    "data/raw/audiocaps/train.csv",
    "data/raw/audiocaps/val.csv",
    "data/raw/audiocaps/test.csv",
    "data/raw/clotho/clotho_captions_development.csv",
    "data/raw/clotho/clotho_captions_validation.csv",
    "data/raw/clotho/clotho_captions_evaluation.csv",
    "data/raw/macs/MACS.yaml",
    "data/raw/fsd50k/FSD50K.ground_truth/dev.csv",
    "data/raw/fsd50k/FSD50K.ground_truth/eval.csv",
    "data/raw/fsd50k/FSD50K.ground_truth/vocabulary.csv",
    "data/raw/esc50/meta/esc50.csv",
    "data/raw/urbansound8k/metadata/UrbanSound8K.csv",
    "data/raw/vocalsound/datafiles/tr.json",
    "data/raw/vocalsound/datafiles/val.json",
    "data/raw/vocalsound/datafiles/te.json",
    "data/raw/openaqa/openaqa_questions.json",
    "data/benchmarks/edansa/EDANSA-2019/labels.csv",
    "data/benchmarks/clotho_aqa/clotho_aqa_test.csv",
    "data/benchmarks/nonspeech7k/metadata of test set.csv",
    "data/benchmarks/audio_hallucination/random_test.txt",
    "data/benchmarks/audio_hallucination/popular_test.txt",
    "data/benchmarks/audio_hallucination/adversarial_test.txt",
    "data/benchmarks/sakura/Animal/Animal_metadata.csv",
    "data/benchmarks/mmau/mmau-test-mini.json",
    "data/benchmarks/audio_entailment/clotho_entailment_test.csv",
    "data/benchmarks/audio_entailment/audiocaps_entailment_test.csv",
    "data/benchmarks/speech_ifeval/eval_data/closed_ended_questions.jsonl",
    "data/benchmarks/speech_ifeval/eval_data/creative_writing.jsonl",
    "data/benchmarks/speech_ifeval/eval_data/chain-of-thought.jsonl",
]
OFFICIAL_LAYOUT_DIRS = [
    "data/raw/audioset/audio/balanced_train",
    "data/raw/audiocaps/audio/test",
    "data/raw/clotho/evaluation",
    "data/raw/macs/TAU-urban-acoustic-scenes-2019-development/audio",
    "data/raw/fsd50k/FSD50K.dev_audio",
    "data/raw/esc50/audio",
    *(f"data/raw/urbansound8k/audio/fold{fold}" for fold in range(1, 11)),
    "data/raw/vocalsound/audio_16k",
    "data/benchmarks/edansa/EDANSA-2019/data",
    "data/benchmarks/clotho_aqa/audio_files",
    *(f"data/benchmarks/cochlscene/CochlScene/Test/{scene}" for scene in COCHLSCENE_SCENES),
    "data/benchmarks/nonspeech7k/test",
    "data/benchmarks/audio_hallucination/audio",
    "data/benchmarks/sakura/Animal/audio",
    "data/benchmarks/speech_ifeval/audios",
]


def write_official_layout(root: Path) -> None:
    """Every release's files (empty) and audio folders under ``root``."""
    for relative in OFFICIAL_LAYOUT_FILES:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).touch()
    for relative in OFFICIAL_LAYOUT_DIRS:
        (root / relative).mkdir(parents=True, exist_ok=True)
