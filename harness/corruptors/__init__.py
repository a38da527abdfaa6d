"""The core corruptors: generic over the task seam in harness.interfaces, registered as a plugin
through the ``harness`` entry-point group like any other."""

from harness.corruptors.fallible import Fallible
from harness.corruptors.oracle import Oracle
from harness.corruptors.retry import Retry, RetryMiss, RetryWeak
from harness.hookspecs import hookimpl

__all__ = ["Fallible", "Oracle", "Retry", "RetryMiss", "RetryWeak"]


@hookimpl
def harness_register_corruptors(register):
    register(Oracle, aliases=("none",))
    register(Fallible)
    register(Retry)
    register(RetryWeak)
    register(RetryMiss)
