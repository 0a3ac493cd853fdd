from pathlib import Path

from balsa_core.stages import data as stages
from balsa_core.logs import workflow_job

with workflow_job(snakemake):
    stages.demo_corpus(snakemake.params.settings, Path(snakemake.output.truth).parent)
