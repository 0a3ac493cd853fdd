from balsa_core.stages.train import train_adapter
from balsa_core.workflow import run_stage

run_stage(snakemake, train_adapter)
