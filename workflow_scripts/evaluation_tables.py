from balsa_core.stages.evaluate import evaluation_tables
from balsa_core.workflow import run_stage

run_stage(snakemake, evaluation_tables)
