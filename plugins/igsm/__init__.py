"""iGSM task plugin (Physics of LMs Part 2.1/2.2): registers the `igsm` task and the `igsm` benchmark."""

from harness import hookimpl

from .bench import IGSMBenchmark
from .task import IGSMConfig, IGSMPayload, IGSMTask


@hookimpl
def harness_register_tasks(register):
    register(IGSMTask)


@hookimpl
def harness_register_benchmarks(register):
    register(IGSMBenchmark)


__all__ = ["IGSMBenchmark", "IGSMConfig", "IGSMPayload", "IGSMTask"]
