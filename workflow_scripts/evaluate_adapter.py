from balsa_core.stages.evaluate import evaluate_adapter
from balsa_core.workflow import run_stage

run_stage(snakemake, evaluate_adapter)
