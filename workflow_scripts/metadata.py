from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import data as stages

with workflow_job(snakemake):
    stages.metadata(
        snakemake.wildcards.corpus,
        snakemake.params.corpus,
        snakemake.params.hygiene,
        Path(snakemake.output.metadata),
        Path(snakemake.output.rejects),
    )
