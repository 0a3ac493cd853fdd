"""The training stage's launch on several processes: the torchrun command, and the job its
processes read back."""

from pathlib import Path

import pytest

from balsa_core.settings import Distributed
from balsa_core.stages.train import TrainingJob, torchrun_command


def test_one_node_runs_torchrun_standalone():
    command = torchrun_command(Path("out/train_job.pkl"), Distributed(processes_per_node=4, nodes=1))
    assert command[1:] == [
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=4",
        "--standalone",
        "-m",
        "balsa_core.stages.train",
        "out/train_job.pkl",
    ]


def test_several_nodes_meet_at_the_rendezvous_and_start_through_srun_under_slurm(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    command = torchrun_command(Path("job.pkl"), Distributed(8, nodes=2, rdzv_endpoint="node001:29500"))
    assert command[:3] == ["srun", "--nodes=2", "--ntasks-per-node=1"]
    assert {"--nnodes=2", "--rdzv-backend=c10d", "--rdzv-endpoint=node001:29500"} <= set(command)
    with pytest.raises(ValueError, match="rdzv_endpoint"):
        torchrun_command(Path("job.pkl"), Distributed(8, nodes=2))


def test_the_job_round_trips_through_its_file(tmp_path, make_config):
    config = make_config()
    job = TrainingJob(
        config,
        "positive_only",
        targets=[Path("a.parquet")],
        features=[Path("index.parquet")],
        llm=Path("llm.json"),
        encoder=Path("encoder.json"),
        init_from=None,
        weights=Path("out/adapter.safetensors"),
    )
    job.save(tmp_path / "job.pkl")
    assert TrainingJob.load(tmp_path / "job.pkl") == job
    assert Distributed(processes_per_node=4, nodes=2).processes == 8
    assert config.training.distributed.processes == 1
