"""The conformance kit plugin authors reuse in their own tests (docs/writing-a-plugin.md).

    from harness.testing import check_task, check_corruptor, check_model_family, check_trainer

`check_task` and `check_corruptor` live in `harness.testing.conformance` (numpy only);
`check_model_family` and `check_trainer` in `harness.testing.models` (torch), imported on first use.
Each check raises AssertionError naming what broke.
"""

_EXPORTS: dict[str, tuple[str, ...]] = {
    "harness.testing.conformance": ("CHECKS", "CORRUPTOR_CHECKS", "check_task", "check_corruptor",
                                    "corruptor_applies", "verify", "verify_text"),
    "harness.testing.models": ("MODEL_CHECKS", "TRAINER_CHECKS", "check_model_family", "check_trainer",
                               "TinyLM", "tiny_budget", "tiny_stream"),
}
_MODULE_OF = {name: mod for mod, names in _EXPORTS.items() for name in names}
__all__ = [*_MODULE_OF]


def __getattr__(name: str):
    mod = _MODULE_OF.get(name)
    if mod is None:
        raise AttributeError(f"module 'harness.testing' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})
