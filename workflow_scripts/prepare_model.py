from pathlib import Path

from balsa_core.stages import models as stages
from balsa_core.logs import workflow_job

with workflow_job(snakemake):
    stages.prepare(snakemake.wildcards.role, snakemake.params.source, Path(snakemake.output[0]))
