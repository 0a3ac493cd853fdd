from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import data as stages

with workflow_job(snakemake):
    stages.demo_corpus(snakemake.params.settings, Path(snakemake.output.truth).parent)
