"""A component's parameters as a person reads them: name, type, default, constraint, description, and
the value a budget gives it (`harness list NAME`), from its pydantic Config."""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticUndefined


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any  # PydanticUndefined-free: None with required=True means "no default"
    required: bool
    constraint: str
    description: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "default": self.default, "required": self.required,
                "constraint": self.constraint, "description": self.description}


def type_name(ann: Any) -> str:
    """`int`, `float | None`, `'learned' | 'rope'`, `list[int]`: a type as a spec writer reads it."""
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(ann))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(ann))
    if origin is not None:
        args = ", ".join(type_name(a) for a in typing.get_args(ann))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if ann is type(None):
        return "None"
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return " | ".join(repr(m.value) for m in ann)
    return getattr(ann, "__name__", str(ann)).replace("typing.", "")


_OPS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "multiple_of": "multiple of", "min_length": "min length",
        "max_length": "max length"}


def constraint_of(field: Any) -> str:
    parts = []
    for m in field.metadata:
        for attr, op in _OPS.items():
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{op} {v}")
    return ", ".join(parts)


def params_of(config_cls: type) -> list[Param]:
    out = []
    for name, f in config_cls.model_fields.items():
        default = f.get_default(call_default_factory=True)
        required = default is PydanticUndefined
        out.append(Param(name, type_name(f.annotation), None if required else _jsonable(default), required,
                         constraint_of(f), (f.description or "").strip()))
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return repr(v)
