from pathlib import Path

from balsa_core.stages import models as stages
from balsa_core.logs import workflow_job

with workflow_job(snakemake):
    stages.features(
        Path(snakemake.input.metadata), Path(snakemake.input.encoder), snakemake.params.settings, Path(snakemake.output[0])
    )
