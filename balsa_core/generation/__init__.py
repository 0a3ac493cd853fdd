"""BALSa's data stage: the backbone LLM writes its own training targets.

* ``backend``: the one interface of the generation backends (transformers on CPU, vLLM at paper
  scale, an OpenAI-compatible server for the external-LLM ablation) and their factory;
* ``target_sets``: every target set of the papers as requests (positive, negative, combined,
  the rule-based template baseline, questions as prompts, and the multi-audio ones on pairs);
* ``shards``: requests cut into deterministic shards, each written atomically, so a killed
  job resumes where it stopped;
* ``quality``: empty, cut-off and leaking targets, the last a lexical check of negative
  targets against the sounds a clip really has, and the same check's mention rate of the
  targets that should describe their clips.

Backends import their heavy dependencies (torch, vllm) only when built, so table-only stages
can import this package cheaply.
"""

from balsa_core.generation.backend import (
    Completion,
    GenerationBackend,
    GenerationError,
    SamplingSettings,
    make_backend,
)
from balsa_core.generation.targets import TARGETS_SCHEMA, read_targets, write_targets

__all__ = [
    "TARGETS_SCHEMA",
    "Completion",
    "GenerationBackend",
    "GenerationError",
    "SamplingSettings",
    "make_backend",
    "read_targets",
    "write_targets",
]
