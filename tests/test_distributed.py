from pathlib import Path

import pytest

from balsa_core.stages.distributed import _from_json, _to_json, processes, torchrun_command


def test_one_node_runs_torchrun_standalone():
    command = torchrun_command(Path("out/train_spec.json"), processes_per_node=4)
    assert command[1:] == [
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=4",
        "--standalone",
        "-m",
        "balsa_core.stages.distributed",
        "out/train_spec.json",
    ]


def test_several_nodes_meet_at_the_rendezvous_and_start_through_srun_under_slurm(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    command = torchrun_command(Path("spec.json"), 8, nodes=2, rdzv_endpoint="node001:29500")
    assert command[:3] == ["srun", "--nodes=2", "--ntasks-per-node=1"]
    assert {"--nnodes=2", "--rdzv-backend=c10d", "--rdzv-endpoint=node001:29500"} <= set(command)
    with pytest.raises(ValueError, match="rdzv_endpoint"):
        torchrun_command(Path("spec.json"), 8, nodes=2)


def test_the_spec_round_trips_paths_through_json():
    arguments = {"target_paths": [Path("a.parquet")], "out_dir": Path("out"), "init_from": None, "mix": {"p": 1}}
    assert _from_json(_to_json(arguments)) == arguments
    assert processes({"processes_per_node": 4, "nodes": 2}) == 8 and processes({}) == 1
