"""Load and validate the pipeline configuration before any job runs.

Validation happens in two passes: the JSON schema (unknown keys, types, ranges, with its
defaults filled in), then the checks a schema cannot express (directories and question files
that must exist, target sets that variants use but no set defines, backends a set names).
Every failure is one line that names the offending key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from balsa_core.demo.benchmarks import DEMO_BENCHMARK_FILES
from balsa_core.evaluation.registry import ALWAYS_AVAILABLE, EVALUATIONS, GROUNDING
from balsa_core.generation.target_sets import COPIED_SOURCES, QUESTION_SOURCES

DEMO_ROOT = Path("data/demo")
DEMO_LAYOUTS = {"esc50": DEMO_ROOT / "esc50", "audiocaps": DEMO_ROOT / "audiocaps"}
# Where the demo_benchmarks rule writes DEMO_BENCHMARK_FILES.
DEMO_BENCHMARKS = DEMO_ROOT / "benchmarks"
BUNDLED_MODELS = {
    "llm": ("smollm2-135m-instruct",),
    "encoder": ("whisper-tiny.en",),
}
# The papers' positive generation prompt, P_pos: grounding's description prompt when no
# targets.positive set gives one.
POSITIVE_PROMPT = "Replay the audio."
# Model names of the evaluation rows that are not variants.
UNTRAINED = "untrained"
TEXT_CEILING = "text_ceiling"
RESERVED_MODELS = {
    UNTRAINED: "the untrained adapter of the grounding evaluation",
    TEXT_CEILING: "the text-only backbone of the evaluations",
}


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


def load_schema() -> dict[str, Any]:
    text = resources.files("balsa_core").joinpath("schemas/config.schema.yaml").read_text()
    return yaml.safe_load(text)


def load_config(path: Path | str, base_dir: Path | str = ".") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    with path.open() as handle:
        config = yaml.safe_load(handle) or {}
    return validate_config(config, base_dir=base_dir, source=str(path))


def validate_config(config: dict[str, Any], base_dir: Path | str = ".", source: str = "config") -> dict[str, Any]:
    """Fill schema defaults into ``config`` in place, check it, and return it."""
    validator = _validator_filling_defaults()(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(f"{source}: {_describe(errors[0])}")
    for problem in _semantic_problems(config, Path(base_dir)):
        raise ConfigError(f"{source}: {problem}")
    grounding = config["evaluation"][GROUNDING]
    grounding.setdefault("prompt", config["targets"].get("positive", {}).get("prompt", POSITIVE_PROMPT))
    return config


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
        key = f"{where}.{unknown[0]}" if error.absolute_path else unknown[0]
        return f"unknown key '{key}'{hint}"
    if error.validator == "required":
        return f"missing key in '{where}': {error.message}"
    if error.validator == "type":
        return f"'{where}' must be of type {error.validator_value}, got {error.instance!r}"
    return f"'{where}': {error.message}"


def _validator_filling_defaults() -> type[jsonschema.protocols.Validator]:
    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = subschema["default"]
        yield from base.VALIDATORS["properties"](validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": set_defaults})


def _semantic_problems(config: Mapping[str, Any], base_dir: Path) -> Iterator[str]:
    demo_roots = {str(root) for root in DEMO_LAYOUTS.values()} if "demo_corpus" in config else set()
    for name, corpus in config["corpora"].items():
        root = corpus["root"]
        if root in demo_roots:
            if Path(root) != DEMO_LAYOUTS[corpus["reader"]]:
                yield (
                    f"corpora.{name}.root: the demo writes the {corpus['reader']} layout to "
                    f"{DEMO_LAYOUTS[corpus['reader']]}, not {root}"
                )
            continue
        if not (base_dir / root).is_dir():
            yield f"corpora.{name}.root: directory not found: {root}"

    for role in BUNDLED_MODELS:
        source, revision = config["models"][role], config["models"][f"{role}_revision"]
        if source.startswith("bundled:") and source.removeprefix("bundled:") not in BUNDLED_MODELS[role]:
            yield f"models.{role}: unknown bundled model {source!r}; known: {BUNDLED_MODELS[role]}"
        if revision is not None and (source.startswith("bundled:") or (base_dir / source).is_dir()):
            yield f"models.{role}_revision: pins a hub id, but models.{role} ({source}) is not one"
        if revision is not None and "@" in source:
            yield f"models.{role}_revision: models.{role} ({source}) already names its revision after '@'"

    yield from _target_set_problems(config, base_dir)
    yield from _benchmark_problems(config, base_dir)
    yield from _baseline_problems(config)

    yield from _pairing_problems(config)

    if config["features"]["window"] == "clip" and not config["features"]["trim"]:
        yield "features.trim: false keeps the padded 30 s window, which needs features.window: full"

    training = config["training"]
    if training["global_batch_size"] % training["micro_batch_size"]:
        yield (
            "training.global_batch_size must be a multiple of training.micro_batch_size "
            f"({training['global_batch_size']} vs {training['micro_batch_size']})"
        )


def _target_set_problems(config: Mapping[str, Any], base_dir: Path) -> Iterator[str]:
    backends = config["generation"]["backends"]
    if config["generation"]["backend"] not in backends:
        yield f"generation.backend: {config['generation']['backend']!r} is not an entry of generation.backends"
    for name, entry in config["targets"].items():
        where = f"targets.{name}"
        if entry["source"] in QUESTION_SOURCES:
            if "questions" not in entry:
                yield f"{where}: a {entry['source']} set needs 'questions', the path of its question file"
            elif not (base_dir / entry["questions"]).is_file():
                yield f"{where}.questions: file not found: {entry['questions']}"
            if entry["audios"] != 1:
                yield f"{where}: {entry['source']} sets are single-audio"
        elif "prompt" not in entry and "templates" not in entry:
            yield f"{where}: a {entry['source']} set needs 'prompt'"
        if "templates" in entry and entry["source"] != "ground_truth":
            yield f"{where}.templates: only used with source: ground_truth"
        elif "templates" in entry and "prompt" in entry:
            yield f"{where}: give either 'prompt' or 'templates', not both"
        if entry["source"] == "ground_truth" and entry["audios"] != 1:
            yield f"{where}: ground-truth targets exist for single clips only"
        if "questions" in entry and entry["source"] not in QUESTION_SOURCES:
            yield f"{where}.questions: only used with source: {' or '.join(QUESTION_SOURCES)}"
        if "backend" in entry and entry["backend"] not in backends:
            yield f"{where}.backend: {entry['backend']!r} is not an entry of generation.backends"
    for variant, entry in config["variants"].items():
        if variant in RESERVED_MODELS:
            yield f"variants.{variant}: the name is reserved for {RESERVED_MODELS[variant]}"
        mix = variant_mix(entry)
        if not mix:
            yield f"variants.{variant}: names no target set to train on"
        for target_set in mix:
            if target_set not in config["targets"]:
                yield f"variants.{variant}.{target_set}: no target set of that name under targets"
        stage_one = entry.get("init_from")
        if stage_one is not None and stage_one not in config["variants"]:
            yield f"variants.{variant}.init_from: no variant named {stage_one!r}"
        elif stage_one is not None and _curriculum_loops(config["variants"], variant):
            yield f"variants.{variant}.init_from: the chain of init_from variants loops back to {variant!r}"


def _baseline_problems(config: Mapping[str, Any]) -> Iterator[str]:
    """A baseline is a row of the tables beside the variants, its answers filed under its name:
    the name must be no variant's and no reserved row's."""
    for name in config["evaluation"]["baselines"]:
        if name in config["variants"]:
            yield (
                f"evaluation.baselines.{name}: variants.{name} has that name; a baseline's row and "
                "answer files need a name of their own"
            )
        elif name in RESERVED_MODELS:
            yield f"evaluation.baselines.{name}: the name is reserved for {RESERVED_MODELS[name]}"


def _pairing_problems(config: Mapping[str, Any]) -> Iterator[str]:
    """Pairing limits: known corpora, and the limits ``PairingConfig`` checks (room for every
    pair a clip starts, the section's and each corpus's)."""
    from balsa_core.pairs import PairingConfig

    for corpus in config["pairs"]["corpora"]:
        if corpus not in config["corpora"]:
            yield f"pairs.corpora.{corpus}: no corpus of that name under corpora"
    try:
        PairingConfig.from_validated(config["pairs"])
    except ValueError as error:
        yield str(error)


def _benchmark_problems(config: Mapping[str, Any], base_dir: Path) -> Iterator[str]:
    """Missing benchmark files (the demo writes its own under data/demo/) and unknown loader options."""
    from balsa_core.evaluation.loaders import loader_options

    demo = "demo_corpus" in config
    for name, entry in config["evaluation"]["benchmarks"].items():
        located = [("files", path) for path in entry.get("files", [])]
        located += [
            (key, entry[key]) for key in ("captions", "labels", "ontology", "synonyms", "audio_dir") if key in entry
        ]
        for key, path in located:
            if demo and Path(path).is_relative_to(DEMO_ROOT):
                if Path(path).is_relative_to(DEMO_BENCHMARKS) and (
                    Path(path).relative_to(DEMO_BENCHMARKS).as_posix() not in DEMO_BENCHMARK_FILES
                ):
                    yield f"evaluation.benchmarks.{name}.{key}: the demo writes no {path}"
                continue
            if not (base_dir / path).exists():
                yield f"evaluation.benchmarks.{name}.{key}: not found: {path}"
        loader = EVALUATIONS[name].loader
        if loader and "options" in entry:
            unknown = sorted(set(entry["options"]) - set(loader_options(loader)))
            if unknown:
                yield (
                    f"evaluation.benchmarks.{name}.options: unknown option(s) {unknown}; "
                    f"the {loader} loader takes {loader_options(loader)}"
                )


VARIANT_SETTINGS = ("init_from", "epochs", "learning_rate")
# The variant settings that override the shared training section.
VARIANT_TRAINING_OVERRIDES = ("epochs", "learning_rate")


def variant_mix(entry: Mapping[str, Any]) -> dict[str, int]:
    """Target set -> samples per seed of a variant entry (without its settings)."""
    return {name: count for name, count in entry.items() if name not in VARIANT_SETTINGS}


def variant_training(config: Mapping[str, Any], variant: str) -> dict[str, Any]:
    """The training settings of one variant: the shared ones, with its own epochs and learning
    rate if it sets them (the papers train stage 1 for five epochs and stage 2 of the curriculum
    for two; the demo's rule-based variant learns its few-word targets at a higher rate)."""
    entry = config["variants"][variant]
    return {**config["training"], **{key: entry[key] for key in VARIANT_TRAINING_OVERRIDES if key in entry}}


def _curriculum_loops(variants: Mapping[str, Any], start: str) -> bool:
    seen, current = {start}, variants[start].get("init_from")
    while current is not None and current in variants:
        if current in seen:
            return True
        seen.add(current)
        current = variants[current].get("init_from")
    return False


def samples_per_seed(config: Mapping[str, Any], target_set: str) -> int:
    """How many targets of a set to generate per seed (per pair): the most any variant draws,
    one when no variant trains on it (it is still generated, to be looked at)."""
    counts = [variant_mix(entry).get(target_set, 0) for entry in config["variants"].values()]
    return max(counts, default=0) or 1


def target_set_entry(config: Mapping[str, Any], target_set: str) -> dict[str, Any]:
    """A target set's config entry with its name and the targets it draws per seed."""
    return {
        **config["targets"][target_set],
        "name": target_set,
        "samples_per_seed": samples_per_seed(config, target_set),
    }


def single_audio_sets(config: Mapping[str, Any]) -> list[str]:
    return sorted(name for name, entry in config["targets"].items() if entry["audios"] == 1)


def pair_sets(config: Mapping[str, Any]) -> list[str]:
    return sorted(name for name, entry in config["targets"].items() if entry["audios"] == 2)


def target_set_backend(config: Mapping[str, Any], target_set: str) -> tuple[str, dict[str, Any]] | None:
    """The name and options of the backend that writes a set; None for the sets copied from the
    data (ground truth, a question file's answers)."""
    entry = config["targets"][target_set]
    if entry["source"] in COPIED_SOURCES:
        return None
    name = entry.get("backend", config["generation"]["backend"])
    return name, config["generation"]["backends"][name]


def generation_params(config: Mapping[str, Any], target_set: str) -> dict[str, Any]:
    """Exactly the settings one target set's targets depend on, so that a change reruns only
    the sets it touches (a sampling change leaves the ground-truth sets alone)."""
    generation = config["generation"]
    params: dict[str, Any] = {"splits": generation["splits"], "leaking_targets": generation["leaking_targets"]}
    backend = target_set_backend(config, target_set)
    if backend is not None:
        params.update(
            backend_name=backend[0],
            backend=backend[1],
            shard_size=generation["shard_size"],
            **{key: generation[key] for key in ("max_new_tokens", "temperature", "top_p", "seed")},
        )
    elif "templates" in config["targets"][target_set] or config["targets"][target_set]["source"] in QUESTION_SOURCES:
        params["seed"] = generation["seed"]  # orders each seed's templates, or draws its questions
    return params


def samples_per_training_source(config: Mapping[str, Any], audios: int) -> int:
    """The most targets one variant trains on per seed (``audios`` 1) or per pair (2), its
    single- or two-audio sets together: Table III's samples per seed and per pair (the papers'
    2N and 2M: two). Zero when no variant trains on such sets."""
    sets = set(single_audio_sets(config) if audios == 1 else pair_sets(config))
    draws = [sum(n for name, n in variant_mix(entry).items() if name in sets) for entry in config["variants"].values()]
    return max(draws, default=0)


def configured_evaluations(config: Mapping[str, Any]) -> list[str]:
    """The evaluations this config runs, in table order: those built from held-out clips and
    every benchmark whose files and audio are configured."""
    benchmarks = config["evaluation"]["benchmarks"]
    return [name for name in EVALUATIONS if name in ALWAYS_AVAILABLE or name in benchmarks]


def unconfigured_evaluations(config: Mapping[str, Any]) -> dict[str, str]:
    """The evaluations left out, each with the config key that would run it."""
    run = set(configured_evaluations(config))
    return {
        name: f"not configured (evaluation.benchmarks.{name}: its files and audio_dir)"
        for name in EVALUATIONS
        if name not in run
    }


def evaluation_input_files(config: Mapping[str, Any], evaluation: str) -> list[str]:
    """The annotation files (or folders) an evaluation's items are read from."""
    entry = config["evaluation"]["benchmarks"].get(evaluation)
    if entry is None:
        return []
    if evaluation == "synonym_hypernym":
        return [entry[key] for key in ("captions", "labels", "ontology", "synonyms") if entry.get(key)]
    return list(entry["files"])
