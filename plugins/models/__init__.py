"""The built-in GPT model family (gpt-{L}L) and the `pretrain` trainer, as a harness plugin; also the
`decode`, `train` and `precision` benchmarks."""

from harness import hookimpl
from harness_models.benchmarks import DecodeBenchmark, PrecisionBenchmark, TrainBenchmark
from harness_models.family import GPTFamily
from harness_models.trainer import Pretrain

__all__ = ["GPTFamily", "Pretrain"]


@hookimpl
def harness_register_models(register):
    register(GPTFamily)


@hookimpl
def harness_register_trainers(register):
    register(Pretrain, default=True)


@hookimpl
def harness_register_benchmarks(register):
    register(DecodeBenchmark)
    register(TrainBenchmark)
    register(PrecisionBenchmark)
