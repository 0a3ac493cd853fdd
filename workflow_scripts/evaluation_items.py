from balsa_core.stages.evaluate import evaluation_items
from balsa_core.workflow import run_stage

run_stage(snakemake, evaluation_items)
