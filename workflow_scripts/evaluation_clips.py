from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import evaluation as stages

with workflow_job(snakemake):
    stages.evaluation_clips(
        [Path(path) for path in snakemake.input.metadata],
        Path(snakemake.input.truth[0]) if snakemake.input.truth else None,
        Path(snakemake.output[0]),
    )
