"""Cluster executors as a harness plugin: `ray` (cells as Ray tasks with their CPU/GPU request) and
`slurm` (an array of harness workers submitted with submitit, each packing cells on its node).

Both need an optional extra (`pip install 'harness[ray]'`, `'harness[slurm]'`); without it they are
still listed, and using one says which extra to install."""

from harness import hookimpl
from harness_cluster.ray_executor import Ray
from harness_cluster.slurm_executor import Slurm

__all__ = ["Ray", "Slurm"]


@hookimpl
def harness_register_executors(register):
    register(Ray)
    register(Slurm)
