from balsa_core.stages.metadata import metadata
from balsa_core.workflow import run_stage

run_stage(snakemake, metadata)
