from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import models as stages

with workflow_job(snakemake):
    stages.evaluation_features(
        Path(snakemake.input.questions),
        Path(snakemake.input.encoder),
        snakemake.params.settings,
        Path(snakemake.output[0]),
    )
