"""GPU placement on a workstation (balsa_core.gpus), with the machine's GPUs mocked: each model
job holds GPUs of its own; a scheduler's placement is left as it is."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from balsa_core import gpus
from balsa_core.gpus import gpu_placement


def four_gpus() -> list[str]:
    return ["0", "1", "2", "3"]


@pytest.fixture()
def environ(tmp_path: Path) -> dict[str, str]:
    return {gpus.POOL_VARIABLE: str(tmp_path / "pool")}


def test_jobs_running_at_once_get_different_gpus_and_see_only_theirs(environ):
    first_env, second_env = dict(environ), dict(environ)
    with gpu_placement(2, first_env, four_gpus) as first, gpu_placement(1, second_env, four_gpus) as second:
        assert first == ["0", "1"] and second == ["2"]
        assert first_env["CUDA_VISIBLE_DEVICES"] == "0,1" and second_env["CUDA_VISIBLE_DEVICES"] == "2"
    assert "CUDA_VISIBLE_DEVICES" not in first_env, "the job's placement ends with it"
    with gpu_placement(4, dict(environ), four_gpus) as everything:
        assert everything == ["0", "1", "2", "3"], "finished jobs give their GPUs back"


def test_a_job_waits_until_enough_gpus_are_free_holding_none_meanwhile(environ):
    placed = threading.Event()
    second_ids: list[str] = []
    with gpu_placement(3, dict(environ), four_gpus):

        def second_job() -> None:
            with gpu_placement(2, dict(environ), four_gpus, poll_seconds=0.01) as ids:
                second_ids.extend(ids)
                placed.set()

        waiting = threading.Thread(target=second_job)
        waiting.start()
        assert not placed.wait(0.2), "one GPU is free, the job needs two"
        with gpu_placement(1, dict(environ), four_gpus) as third:
            assert third == ["3"], "the waiting job holds no GPU"
        assert not placed.wait(0.1), "still one GPU free once the third job ends"
    waiting.join(5)
    assert placed.is_set()
    # The first job gives its GPUs back all at once, so the waiting job takes the lowest free ones.
    assert second_ids == ["0", "1"]


def test_a_scheduler_placement_is_left_as_it_is(environ):
    environ["CUDA_VISIBLE_DEVICES"] = "5"  # SLURM's choice
    with gpu_placement(1, environ, lambda: pytest.fail("the machine's GPUs are not asked for")) as ids:
        assert ids is None and environ["CUDA_VISIBLE_DEVICES"] == "5"
    assert environ["CUDA_VISIBLE_DEVICES"] == "5"


@pytest.mark.parametrize(("count", "machine"), [(0, four_gpus), (1, list)], ids=["no-gpu-reserved", "no-gpu-here"])
def test_nothing_is_placed_without_gpus_to_place(environ, count, machine):
    with gpu_placement(count, environ, machine) as ids:
        assert ids is None and "CUDA_VISIBLE_DEVICES" not in environ


def test_a_job_reserving_more_gpus_than_the_machine_has_is_refused(environ):
    with (
        pytest.raises(ValueError, match="reserves 5 GPUs, but this machine has 4"),
        gpu_placement(5, environ, four_gpus),
    ):
        pass


def test_the_pool_defaults_to_the_workflows_snakemake_directory():
    assert gpus.pool_dir({}) == Path(".snakemake/gpu_pool")
    assert gpus.pool_dir({gpus.POOL_VARIABLE: "/tmp/gpus"}) == Path("/tmp/gpus")
