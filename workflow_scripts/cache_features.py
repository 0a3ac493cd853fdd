from balsa_core.stages.features import cache_features
from balsa_core.workflow import run_stage

run_stage(snakemake, cache_features)
