from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import models as stages

kind = snakemake.wildcards.kind
with workflow_job(snakemake):
    stages.generate(
        metadata_path=Path(snakemake.input.metadata),
        llm_manifest=Path(snakemake.input.llm),
        prompts={
            "begin_audio": snakemake.params.begin_audio,
            "end_audio": snakemake.params.end_audio,
            "generation": {kind: snakemake.params.instruction},
        },
        kind=kind,
        generation_settings=snakemake.params.generation,
        samples_per_seed=snakemake.params.samples_per_seed,
        out_path=Path(snakemake.output[0]),
    )
