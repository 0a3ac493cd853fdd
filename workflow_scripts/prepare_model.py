from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import models as stages

with workflow_job(snakemake):
    stages.prepare(snakemake.wildcards.role, snakemake.params.source, Path(snakemake.output[0]))
