from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import evaluation as stages

with workflow_job(snakemake):
    stages.evaluation_items(
        evaluation=snakemake.wildcards.evaluation,
        benchmark=snakemake.params.benchmark,
        settings=snakemake.params.settings,
        clips=stages.read_evaluation_clips(Path(snakemake.input.clips)),
        out_path=Path(snakemake.output[0]),
    )
