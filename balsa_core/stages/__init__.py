"""The pipeline's steps: one module per ``rules/<step>.smk``, one function per rule, named as the rule.

A stage is called ``stage(config, **arguments)``: ``config`` is the typed view of the validated
config (``balsa_core.settings.PipelineConfig``), from which the stage builds its own settings, and
each further parameter is one of its rule's wildcards (annotated ``str``) or named inputs and
outputs (``Path``; ``Path | None`` for an input the rule may leave out; ``Sequence[Path]`` for a
list). The workflow script of a rule (``balsa_core.workflow.run_stage``) and the ``balsa``
subcommand of the same name (``balsa_core.cli``) both fill these parameters from the signature.
The heavy imports (torch, transformers) stay inside the stages that load a model, so that the
table stages start in a second.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["wildcard", "path", "optional_path", "paths"]
KINDS: dict[Any, Kind] = {str: "wildcard", Path: "path", Path | None: "optional_path", Sequence[Path]: "paths"}


@dataclass(frozen=True)
class StageParameter:
    name: str
    kind: Kind

    def convert(self, value: str | Sequence[str] | None) -> str | Path | list[Path] | None:
        """A wildcard as it is; a rule's file or files (a string, or Snakemake's list) as paths."""
        if self.kind == "wildcard":
            return value
        paths = [Path(value)] if isinstance(value, str | Path) else [Path(item) for item in value or []]
        if self.kind == "paths":
            return paths
        if len(paths) > 1 or (self.kind == "path" and not paths):
            raise ValueError(f"{self.name}: expected one file, got {[str(path) for path in paths]}")
        return paths[0] if paths else None


def stage_parameters(stage: Callable[..., None]) -> list[StageParameter]:
    """The parameters of ``stage`` after ``config``, each with its kind (from its annotation)."""
    hints = typing.get_type_hints(stage)
    names = list(inspect.signature(stage).parameters)[1:]
    unknown = [name for name in names if hints.get(name) not in KINDS]
    if unknown:
        raise TypeError(f"{stage.__name__}: parameter(s) {unknown} are not annotated as one of {list(KINDS)}")
    return [StageParameter(name, KINDS[hints[name]]) for name in names]
