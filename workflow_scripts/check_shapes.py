from balsa_core.stages.models import check_shapes
from balsa_core.workflow import run_stage

run_stage(snakemake, check_shapes)
