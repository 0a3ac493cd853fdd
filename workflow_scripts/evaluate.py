from pathlib import Path

from balsa_core.logs import workflow_job
from balsa_core.stages import models as stages

# One script for both evaluation rules: with an adapter input it asks the audio model, without
# one it asks the backbone with each clip's description in place of the audio.
adapter = Path(snakemake.input.adapter).parent if hasattr(snakemake.input, "adapter") else None
with workflow_job(snakemake):
    stages.evaluate(
        evaluation=snakemake.wildcards.evaluation,
        items_path=Path(snakemake.input.questions),
        model=adapter.name if adapter else stages.TEXT_CEILING,
        adapter_dir=adapter,
        feature_indexes=[Path(path) for path in [*snakemake.input.corpus_features, snakemake.input.features]]
        if adapter
        else [],
        llm_manifest=Path(snakemake.input.llm),
        prompts={
            "begin_audio": snakemake.params.get("begin_audio", ""),
            "end_audio": snakemake.params.get("end_audio", ""),
            "system_message": snakemake.params.get("system_message"),
        },
        answering=snakemake.params.answering,
        out_answers=Path(snakemake.output.answers),
        out_metrics=Path(snakemake.output.metrics),
    )
