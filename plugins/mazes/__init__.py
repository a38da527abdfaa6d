"""MazeGPT task plugin: registers the `mazes` task and the `mazes` benchmark."""

from harness import hookimpl

from .bench import MazesBenchmark
from .generator import generate_reference, sample_mazes
from .solve import MazeState, build_state, make_problem, parse_maze
from .task import MazesConfig, MazesTask


@hookimpl
def harness_register_tasks(register):
    register(MazesTask)


@hookimpl
def harness_register_benchmarks(register):
    register(MazesBenchmark)


__all__ = [
    "MazeState",
    "MazesBenchmark",
    "MazesConfig",
    "MazesTask",
    "build_state",
    "generate_reference",
    "make_problem",
    "parse_maze",
    "sample_mazes",
]
