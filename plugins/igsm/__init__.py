"""iGSM task plugin (Physics of LMs Part 2.1/2.2): registers the `igsm` task."""

from harness.hookspecs import hookimpl

from .task import IGSMConfig, IGSMPayload, IGSMTask


@hookimpl
def harness_register_tasks(register):
    register(IGSMTask)


__all__ = ["IGSMConfig", "IGSMPayload", "IGSMTask"]
