from balsa_core.stages.models import prepare_model
from balsa_core.workflow import run_stage

run_stage(snakemake, prepare_model)
