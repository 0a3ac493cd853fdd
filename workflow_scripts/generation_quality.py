from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import data as stages

with workflow_job(snakemake):
    stages.generation_quality([Path(path) for path in snakemake.input], Path(snakemake.output[0]))
