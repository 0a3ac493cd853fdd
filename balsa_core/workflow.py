"""What a rule's script does: ``run_stage(snakemake, <the stage named as the rule>)``."""

from __future__ import annotations

import os
from collections.abc import Callable

from balsa_core.gpus import gpu_placement
from balsa_core.logs import workflow_job
from balsa_core.settings import PipelineConfig
from balsa_core.stages import stage_parameters

# The one stage that may reach the Hugging Face hub: it downloads the backbones at their pinned
# revisions. Every other job loads what it recorded, offline, so none fetches a newer revision.
HUB_STAGES = frozenset({"prepare_model"})


def run_stage(snakemake, stage: Callable[..., None]) -> None:
    """Call ``stage`` with the job's config and, by name, its wildcards and named inputs and
    outputs, with stderr, warnings and tracebacks in the rule's log file, on GPUs of its own
    (``gpus.gpu_placement``) and, unless it fetches models, with the hub offline."""
    files = {**dict(snakemake.input.items()), **dict(snakemake.output.items())}
    wildcards = dict(snakemake.wildcards.items())
    if stage.__name__ not in HUB_STAGES:
        # Read when huggingface_hub is imported: the stages import it (with transformers) lazily.
        os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    gpus = int(getattr(snakemake, "resources", {}).get("gpu", 0))
    with workflow_job(snakemake), gpu_placement(gpus, os.environ):
        arguments = {
            parameter.name: parameter.convert(
                wildcards[parameter.name] if parameter.kind == "wildcard" else files[parameter.name]
            )
            for parameter in stage_parameters(stage)
        }
        # The workflow validated the config when it was parsed (rules/common.smk).
        stage(PipelineConfig.from_validated(snakemake.config), **arguments)
