"""MazeGPT task plugin: registers the `mazes` task."""

from harness.hookspecs import hookimpl

from .generator import generate_reference, sample_mazes
from .solve import MazeState, build_state, make_problem, parse_maze
from .task import MazesConfig, MazesTask


@hookimpl
def harness_register_tasks(register):
    register(MazesTask)


__all__ = [
    "MazeState",
    "MazesConfig",
    "MazesTask",
    "build_state",
    "generate_reference",
    "make_problem",
    "parse_maze",
    "sample_mazes",
]
