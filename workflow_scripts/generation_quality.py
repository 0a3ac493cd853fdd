from balsa_core.stages.generate import generation_quality
from balsa_core.workflow import run_stage

run_stage(snakemake, generation_quality)
