from balsa_core.stages.grounding import untrained_adapter
from balsa_core.workflow import run_stage

run_stage(snakemake, untrained_adapter)
