from balsa_core.stages.evaluate import evaluate_baseline
from balsa_core.workflow import run_stage

run_stage(snakemake, evaluate_baseline)
