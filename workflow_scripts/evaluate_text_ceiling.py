from balsa_core.stages.evaluate import evaluate_text_ceiling
from balsa_core.workflow import run_stage

run_stage(snakemake, evaluate_text_ceiling)
