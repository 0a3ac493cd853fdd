from balsa_core.stages.grounding import grounding_table
from balsa_core.workflow import run_stage

run_stage(snakemake, grounding_table)
