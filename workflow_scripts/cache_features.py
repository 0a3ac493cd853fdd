from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import models as stages

with workflow_job(snakemake):
    stages.features(
        Path(snakemake.input.metadata),
        Path(snakemake.input.encoder),
        snakemake.params.settings,
        Path(snakemake.output[0]),
    )
