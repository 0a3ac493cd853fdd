from balsa_core.stages.generate import generate_targets
from balsa_core.workflow import run_stage

run_stage(snakemake, generate_targets)
