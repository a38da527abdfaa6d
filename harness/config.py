"""The base of every config and the plan error, apart from the interfaces so that the budgets (and
the CLI's help text) import neither numpy nor the nouns. Both are re-exported by `harness.interfaces`
and `harness`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Config(BaseModel):
    """Base of every plugin config: unknown fields are errors, values are validated on assignment, and
    a float field refuses inf and NaN (`lr=inf` would train to NaN weights)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, allow_inf_nan=False)

    def identity_json(self) -> dict[str, Any]:
        """The config as JSON for a cell's identity. A field declared with
        `json_schema_extra={"identity": "when_set"}` (one added after cells were already written)
        enters it only when it differs from its default, so adding it changes no existing cell id."""
        out = self.model_dump(mode="json")
        for name, f in type(self).model_fields.items():
            extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
            if extra.get("identity") == "when_set" and getattr(self, name) == f.get_default(call_default_factory=True):
                out.pop(name, None)
        return out


class PlanError(ValueError):
    """A spec, config or combination that cannot run; raised before any training starts."""
