"""The validated config as frozen dataclasses: what every stage reads.

``PipelineConfig.from_validated`` builds it once from the dict that ``config.validate_config``
checked and filled with the schema's defaults, so no stage repeats a default. Settings derived
from several keys (a target set's samples per seed, a variant's epochs, the evaluations run) come
from the helpers of ``balsa_core.config`` that also give the rules' ``params``, Snakemake's rerun
triggers: a stage reads exactly what its rule declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from balsa_core.config import (
    TEXT_CEILING,
    UNTRAINED,
    configured_evaluations,
    samples_per_training_source,
    target_set_entry,
    unconfigured_evaluations,
    variant_mix,
    variant_training,
)
from balsa_core.demo.corpus import DemoCorpusConfig
from balsa_core.evaluation.registry import GROUNDING
from balsa_core.generation.target_sets import TargetSet
from balsa_core.hygiene import HygieneSettings
from balsa_core.pairs import PairingConfig
from balsa_core.prompts import PromptTemplate


@dataclass(frozen=True)
class Corpus:
    reader: str
    root: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Models:
    """Where the backbones come from: ``bundled:<name>``, a checkpoint directory or a hub id
    (at a pinned revision, downloaded into ``cache_dir``)."""

    llm: str
    encoder: str
    llm_revision: str | None
    encoder_revision: str | None
    cache_dir: str

    def revision(self, role: str) -> str | None:
        """The configured hub revision of ``role`` (``llm`` or ``encoder``)."""
        return getattr(self, f"{role}_revision")


@dataclass(frozen=True)
class Generation:
    backend: str
    backends: dict[str, dict[str, Any]]
    splits: list[str]
    max_new_tokens: int
    temperature: float
    top_p: float
    seed: int
    shard_size: int
    leaking_targets: str


@dataclass(frozen=True)
class Features:
    layers: list[int]
    batch_size: int
    shard_size: int
    window: str
    trim: bool


@dataclass(frozen=True)
class AdapterSettings:
    """The adapter's configured shape; the encoder and LLM widths come from the models."""

    num_queries: int
    num_layers: int
    num_heads: int
    ffn_ratio: int
    dropout: float


@dataclass(frozen=True)
class Distributed:
    processes_per_node: int
    nodes: int
    rdzv_endpoint: str | None = None

    @property
    def processes(self) -> int:
        return self.processes_per_node * self.nodes


@dataclass(frozen=True)
class Training:
    epochs: int
    micro_batch_size: int
    global_batch_size: int
    learning_rate: float
    warmup_steps: int
    max_target_tokens: int
    seed: int
    checkpoint_every: int
    keep_checkpoints: int
    precision: str
    max_grad_norm: float
    validation_fraction: float
    eval_every: int
    probe_clips: int
    distributed: Distributed

    @classmethod
    def from_validated(cls, training: Mapping[str, Any]) -> Training:
        return cls(**{**training, "distributed": Distributed(**training["distributed"])})


@dataclass(frozen=True)
class Variant:
    mix: dict[str, int]  # target set -> targets drawn per training seed
    init_from: str | None  # the stage-1 variant that stage 2 of the curriculum starts from
    training: Training  # the shared settings with the variant's own epochs


@dataclass(frozen=True)
class Prompting:
    yes_no_instruction: str
    choice_instruction: str
    open_instruction: str
    shuffle_seed: int


@dataclass(frozen=True)
class Answering:
    max_new_tokens: int
    instruction_max_new_tokens: int
    batch_size: int


@dataclass(frozen=True)
class Hallucination:
    negatives_per_clip: int
    sampling: str
    seed: int
    max_clips: int | None = None


@dataclass(frozen=True)
class InstructionFollowing:
    base_prompts: list[str]
    per_prompt: int
    seed: int
    kinds: list[str] | None = None
    max_clips: int | None = None


@dataclass(frozen=True)
class Grounding:
    prompt: str
    seed: int
    max_clips: int | None = None


@dataclass(frozen=True)
class Endpoint:
    """A model on an OpenAI-compatible server: a baseline audio LLM of the tables, or the judge."""

    base_url: str
    model: str
    api_key_env: str | None = None
    concurrency: int = 8
    timeout_s: float = 60.0
    max_retries: int = 5


@dataclass(frozen=True)
class Judge(Endpoint):
    """An LLM judge on an OpenAI-compatible server (Speech-IFEval's chain-of-thought replies)."""

    max_new_tokens: int = 256


@dataclass(frozen=True)
class Benchmark:
    """A released evaluation: its annotation files, the folder its clips are joined to, the
    loader's options and an optional seeded subsample."""

    files: list[str]
    audio_dir: str
    options: dict[str, Any]
    seed: int
    max_items: int | None = None


@dataclass(frozen=True)
class SynonymHypernymBenchmark:
    captions: str
    labels: str
    ontology: str
    audio_dir: str
    negatives_per_clip: int
    seed: int
    synonyms: str | None = None
    max_items: int | None = None


@dataclass(frozen=True)
class Evaluation:
    prompting: Prompting
    answering: Answering
    hallucination: Hallucination
    instruction_following: InstructionFollowing
    grounding: Grounding
    benchmarks: dict[str, Benchmark | SynonymHypernymBenchmark]
    text_ceiling: bool
    judge: Judge | None  # None: items only a judge can score are not asked
    baselines: dict[str, Endpoint]  # audio LLMs asked the same items, each a row of the tables
    run: list[str]  # the evaluations of Tables IV and V this config runs, in table order
    unconfigured: dict[str, str]  # those left out, each with the key that would run it


@dataclass(frozen=True)
class PipelineConfig:
    demo_corpus: DemoCorpusConfig | None
    corpora: dict[str, Corpus]
    audio_hygiene: HygieneSettings
    models: Models
    prompts: PromptTemplate
    targets: dict[str, TargetSet]  # each set's entry with its name and samples per seed
    generation: Generation
    features: Features
    variants: dict[str, Variant]
    pairs: PairingConfig
    adapter: AdapterSettings
    training: Training
    evaluation: Evaluation
    # Table III: the most targets one variant trains on per seed and per pair (the papers' 2N, 2M).
    samples_per_training_seed: int
    samples_per_training_pair: int

    @property
    def text_model(self) -> str | None:
        """The text-only backbone's row of the tables, when the config asks for it."""
        return TEXT_CEILING if self.evaluation.text_ceiling else None

    @property
    def evaluated_models(self) -> list[str]:
        """The rows of Tables IV and V: the baselines, then the pipeline's own models."""
        return [*sorted(self.evaluation.baselines), *self.pipeline_models]

    @property
    def pipeline_models(self) -> list[str]:
        """The models this pipeline builds and asks: the variants, then the text ceiling."""
        return [*sorted(self.variants), *([self.text_model] if self.text_model else [])]

    @property
    def grounding_models(self) -> list[str]:
        """The grounding table's rows: the untrained adapter (its floor), then the pipeline's own
        models (the baselines answer the tables' items only)."""
        return [UNTRAINED, *self.pipeline_models]

    def wildcard_values(self) -> dict[str, list[str]]:
        """What each wildcard of the rules can be (``rules/common.smk``'s constraints)."""
        return {
            "corpus": sorted(self.corpora),
            "target_set": sorted(self.targets),
            # The untrained adapter is evaluated like a variant; train_adapter makes only the variants.
            "variant": [*sorted(self.variants), UNTRAINED],
            "evaluation": [*self.evaluation.run, GROUNDING],
            "baseline": sorted(self.evaluation.baselines),
            "role": ["llm", "encoder"],
        }

    @classmethod
    def from_validated(cls, config: Mapping[str, Any]) -> PipelineConfig:
        """The typed view of a config that ``config.validate_config`` returned."""
        return cls(
            demo_corpus=DemoCorpusConfig(**config["demo_corpus"]) if "demo_corpus" in config else None,
            corpora={name: Corpus(**entry) for name, entry in config["corpora"].items()},
            audio_hygiene=HygieneSettings(**config["audio_hygiene"]),
            models=Models(**config["models"]),
            prompts=PromptTemplate(**config["prompts"]),
            targets={name: TargetSet(**target_set_entry(config, name)) for name in config["targets"]},
            generation=Generation(**config["generation"]),
            features=Features(**config["features"]),
            variants={
                name: Variant(
                    mix=variant_mix(entry),
                    init_from=entry.get("init_from"),
                    training=Training.from_validated(variant_training(config, name)),
                )
                for name, entry in config["variants"].items()
            },
            pairs=PairingConfig.from_validated(config["pairs"]),
            adapter=AdapterSettings(**config["adapter"]),
            training=Training.from_validated(config["training"]),
            evaluation=_evaluation(config),
            samples_per_training_seed=samples_per_training_source(config, audios=1),
            samples_per_training_pair=samples_per_training_source(config, audios=2),
        )


def _evaluation(config: Mapping[str, Any]) -> Evaluation:
    evaluation = config["evaluation"]
    return Evaluation(
        prompting=Prompting(**evaluation["prompting"]),
        answering=Answering(**evaluation["answering"]),
        hallucination=Hallucination(**evaluation["hallucination"]),
        instruction_following=InstructionFollowing(**evaluation["instruction_following"]),
        grounding=Grounding(**evaluation["grounding"]),
        benchmarks={
            name: SynonymHypernymBenchmark(**entry) if name == "synonym_hypernym" else Benchmark(**entry)
            for name, entry in evaluation["benchmarks"].items()
        },
        text_ceiling=evaluation["text_ceiling"],
        judge=None if evaluation.get("judge") is None else Judge(**evaluation["judge"]),
        baselines={name: Endpoint(**entry) for name, entry in evaluation["baselines"].items()},
        run=configured_evaluations(config),
        unconfigured=unconfigured_evaluations(config),
    )
