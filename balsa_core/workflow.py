"""What a rule's script does: ``run_stage(snakemake, <the stage named as the rule>)``."""

from __future__ import annotations

from collections.abc import Callable

from balsa_core.logs import workflow_job
from balsa_core.settings import PipelineConfig
from balsa_core.stages import stage_parameters


def run_stage(snakemake, stage: Callable[..., None]) -> None:
    """Call ``stage`` with the job's config and, by name, its wildcards and named inputs and
    outputs, with stderr, warnings and tracebacks in the rule's log file."""
    files = {**dict(snakemake.input.items()), **dict(snakemake.output.items())}
    wildcards = dict(snakemake.wildcards.items())
    with workflow_job(snakemake):
        arguments = {
            parameter.name: parameter.convert(
                wildcards[parameter.name] if parameter.kind == "wildcard" else files[parameter.name]
            )
            for parameter in stage_parameters(stage)
        }
        # The workflow validated the config when it was parsed (rules/common.smk).
        stage(PipelineConfig.from_validated(snakemake.config), **arguments)
