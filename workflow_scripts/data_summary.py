from balsa_core.stages.metadata import data_summary
from balsa_core.workflow import run_stage

run_stage(snakemake, data_summary)
