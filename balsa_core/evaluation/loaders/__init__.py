"""Evaluation benchmark loaders: every benchmark's release files as items in one common schema.

``load_benchmark(name, paths, audio_dir, **options)`` runs the loader registered under
``name`` in ``LOADERS``. Every loader takes ``(paths, audio_dir, **options)``: the annotation
file(s) (or, for CochlScene, the split folder), and the folder the clips' names are joined
to; it returns a DataFrame whose first columns are ``ITEM_COLUMNS`` (see ``ITEM_SCHEMA``)
and raises ``BenchmarkFileError`` naming the file and the column or key on bad input.

| name | loader | items |
|---|---|---|
| clotho_aqa | load_clotho_aqa | unanimous Clotho-AQA questions; yes_no or open |
| audio_hallucination | load_audio_hallucination | released yes/no files; subset = sampling |
| mmau | load_mmau | MMAU test-mini, sound task by default; multiple_choice |
| sakura | load_sakura | SAKURA tracks, single- and multi-hop; multiple_choice |
| audio_entailment | load_audio_entailment | hypothesis -> entailment/neutral/contradiction; multiple_choice |
| nonspeech7k | load_nonspeech7k | 7 human non-speech classes; multiple_choice |
| cochlscene | load_cochlscene | 13 acoustic scenes, 100 clips each; multiple_choice |
| edansa | load_edansa | 7 ecoacoustic events; yes_no per (clip, event), or multiple_choice |
| speech_ifeval | load_speech_ifeval | Speech-IFEval instructions; instruction (rules or an LLM judge) |

The classification loaders (nonspeech7k, cochlscene, edansa) take ``num_options``: the answer
and that many minus one seeded distractors instead of every class.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from balsa_core.evaluation.loaders.classification import (
    COCHLSCENE_SCENES,
    EDANSA_EVENTS,
    NONSPEECH7K_CLASSES,
    load_cochlscene,
    load_edansa,
    load_nonspeech7k,
)
from balsa_core.evaluation.loaders.common import (
    ITEM_COLUMNS,
    ITEM_SCHEMA,
    QUESTION_TYPES,
    BenchmarkFileError,
    PathArg,
    Paths,
)
from balsa_core.evaluation.loaders.released import (
    ENTAILMENT_LABELS,
    load_audio_entailment,
    load_audio_hallucination,
    load_clotho_aqa,
    load_mmau,
    load_sakura,
)
from balsa_core.evaluation.loaders.speech_ifeval import load_speech_ifeval

LOADERS: dict[str, Callable[..., pd.DataFrame]] = {
    "clotho_aqa": load_clotho_aqa,
    "audio_hallucination": load_audio_hallucination,
    "mmau": load_mmau,
    "sakura": load_sakura,
    "audio_entailment": load_audio_entailment,
    "nonspeech7k": load_nonspeech7k,
    "cochlscene": load_cochlscene,
    "edansa": load_edansa,
    "speech_ifeval": load_speech_ifeval,
}


def loader_options(name: str) -> list[str]:
    """The keyword options benchmark ``name``'s loader takes."""
    if name not in LOADERS:
        raise ValueError(f"unknown benchmark {name!r}; known benchmarks: {sorted(LOADERS)}")
    return [
        parameter.name
        for parameter in inspect.signature(LOADERS[name]).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]


def load_benchmark(name: str, paths: Paths, audio_dir: PathArg | None, **options) -> pd.DataFrame:
    """Load benchmark ``name`` (a key of LOADERS); unknown names and options are errors that list the known ones."""
    known = loader_options(name)
    loader = LOADERS[name]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"benchmark {name!r}: unknown option(s) {unknown}; known options: {sorted(known)}")
    if audio_dir is None and name != "cochlscene":
        raise ValueError(f"benchmark {name!r}: audio_dir is required")
    return loader(paths, None if audio_dir is None else Path(audio_dir), **options)


__all__ = [
    "COCHLSCENE_SCENES",
    "EDANSA_EVENTS",
    "ENTAILMENT_LABELS",
    "ITEM_COLUMNS",
    "ITEM_SCHEMA",
    "LOADERS",
    "NONSPEECH7K_CLASSES",
    "QUESTION_TYPES",
    "BenchmarkFileError",
    "load_audio_entailment",
    "load_audio_hallucination",
    "load_benchmark",
    "loader_options",
    "load_clotho_aqa",
    "load_cochlscene",
    "load_edansa",
    "load_mmau",
    "load_nonspeech7k",
    "load_sakura",
    "load_speech_ifeval",
]
