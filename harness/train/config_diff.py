"""What differs between two run configurations, field by field with both values: the reason a
checkpoint is refused (by --resume, sample, eval, translate) is a field the user can find.
"""

from __future__ import annotations

from typing import Any

#: fields that may differ between a run's checkpoints and its config.json (a resume with more steps)
MAY_CHANGE = frozenset({"train.steps"})
#: the RunConfig fields; config.json holds more (data provenance, plugin spec, recorded locations)
RUN_FIELDS = ("model", "dataset", "preset", "train", "params")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"train": {"seed": 1}} → {"train.seed": 1}."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


def config_changes(before: dict[str, Any], after: dict[str, Any], ignore: frozenset[str] = MAY_CHANGE) -> list[str]:
    """``["train.seed: 3 → 4", …]`` for every RunConfig field that differs (both as JSON-like dicts)."""
    old = flatten({k: before[k] for k in RUN_FIELDS if k in before})
    new = flatten({k: after[k] for k in RUN_FIELDS if k in after})
    return [f"{key}: {old.get(key, '(absent)')!r} → {new.get(key, '(absent)')!r}" for key in sorted(set(old) | set(new))
            if key not in ignore and old.get(key) != new.get(key)]
