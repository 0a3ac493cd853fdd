from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import evaluation as stages

with workflow_job(snakemake):
    stages.grounding_results(
        [Path(path) for path in snakemake.input],
        models=snakemake.params.models,
        seed=snakemake.params.seed,
        out_csv=Path(snakemake.output.table),
        out_plot=Path(snakemake.output.plot),
    )
