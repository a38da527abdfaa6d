"""iGSM task plugin (Physics of LMs Part 2.1/2.2): registers the `igsm` task, its `can_next` probe target and
the `igsm` benchmark."""

from harness import hookimpl

from .bench import IGSMBenchmark
from .probes import CanNext
from .task import IGSMConfig, IGSMPayload, IGSMTask


@hookimpl
def harness_register_tasks(register):
    register(IGSMTask)


@hookimpl
def harness_register_probe_targets(register):
    register(CanNext)


@hookimpl
def harness_register_benchmarks(register):
    register(IGSMBenchmark)


__all__ = ["CanNext", "IGSMBenchmark", "IGSMConfig", "IGSMPayload", "IGSMTask"]
