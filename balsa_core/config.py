"""Load and validate the pipeline configuration before any job runs.

Validation happens in two passes: the JSON schema (unknown keys, types, ranges, with its
defaults filled in), then the checks a schema cannot express (directories that must exist,
prompt kinds that variants use but no prompt defines). Every failure is one line that names
the offending key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DEMO_ROOT = Path("data/demo")
DEMO_LAYOUTS = {"esc50": DEMO_ROOT / "esc50", "audiocaps": DEMO_ROOT / "audiocaps"}
BUNDLED_MODELS = {
    "llm": ("smollm2-135m-instruct",),
    "encoder": ("whisper-tiny.en",),
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

    for role, source in config["models"].items():
        if source.startswith("bundled:") and source.removeprefix("bundled:") not in BUNDLED_MODELS[role]:
            yield f"models.{role}: unknown bundled model {source!r}; known: {BUNDLED_MODELS[role]}"

    prompt_kinds = set(config["prompts"]["generation"])
    for variant, mix in config["variants"].items():
        for kind in mix:
            if kind not in prompt_kinds:
                yield f"variants.{variant}.{kind}: no prompt defined under prompts.generation.{kind}"

    training = config["training"]
    if training["global_batch_size"] % training["micro_batch_size"]:
        yield (
            "training.global_batch_size must be a multiple of training.micro_batch_size "
            f"({training['global_batch_size']} vs {training['micro_batch_size']})"
        )


def samples_per_seed(config: Mapping[str, Any], kind: str) -> int:
    """How many targets of one prompt kind to generate per seed: the most any variant draws."""
    return max((mix.get(kind, 0) for mix in config["variants"].values()), default=0)


def generated_kinds(config: Mapping[str, Any]) -> list[str]:
    return sorted(kind for kind in config["prompts"]["generation"] if samples_per_seed(config, kind))
