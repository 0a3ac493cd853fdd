from balsa_core.stages.generate import generate_pair_targets
from balsa_core.workflow import run_stage

run_stage(snakemake, generate_pair_targets)
