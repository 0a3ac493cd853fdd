from balsa_core.stages.demo import demo_benchmarks
from balsa_core.workflow import run_stage

run_stage(snakemake, demo_benchmarks)
