from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import models as stages

with workflow_job(snakemake):
    stages.generate(
        target_set=snakemake.params.target_set,
        metadata_paths=[Path(path) for path in snakemake.input.metadata],
        pairs_path=Path(snakemake.input.pairs) if hasattr(snakemake.input, "pairs") else None,
        questions_path=next((Path(path) for path in snakemake.input.questions), None)
        if hasattr(snakemake.input, "questions")
        else None,
        llm_manifest=next((Path(path) for path in snakemake.input.llm), None),
        template=snakemake.params.template,
        generation=snakemake.params.generation,
        out_path=Path(snakemake.output.targets),
        quality_path=Path(snakemake.output.quality),
    )
