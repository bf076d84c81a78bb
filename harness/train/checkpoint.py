"""Checkpoints: everything a run needs to continue bit for bit, written so a crash never corrupts one.

Format (``checkpoints/step_NNNNNNN.pt``): one ``torch.save`` file holding only tensors and plain
Python data (dicts, lists, tuples, numbers, strings), so it loads with
``torch.load(weights_only=True)``: a checkpoint from the internet cannot run code. Top level::

    format: "ganzoo-checkpoint"   version: 1        model: plugin name     step: iterations done
    config: the run's config (JSON text)          data_info: the plugin's DataInfo (JSON text)
    networks: {name: state_dict}                  ema: {name: state_dict} | None
    optimizers: {name: state_dict}                scalers: {phase: state_dict}
    rng: [per rank: python, numpy, torch CPU (and CUDA) generator states]
    noise: {shared, local} generator states of the step context (local: per rank, in rng)
    data: the data source's state_dict (its order; identical on every rank)
    trainer: counters, timings, logging window, warnings, learning-rate factor, …
    world_size: processes that wrote it

Writes go to a temporary file in the same folder, then ``os.replace`` (atomic on POSIX), so a
checkpoint is either complete or absent. ``checkpoints/index.json`` lists them with their
evaluation metrics; the last ``keep`` and the best by ``train.best_metric`` are kept.

A checkpoint is refused (by --resume, sample, eval, translate) when its run configuration differs from
the one asked for; :func:`config_changes` names every field that differs, with both values, so the
reason is a field the user can find.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..contract.errors import CheckpointError
from ..report.rundir import no_space, out_of_space, write_json_atomic

FORMAT = "ganzoo-checkpoint"
VERSION = 1
INDEX = "index.json"
NAME = re.compile(r"^step_(\d{7,})\.pt$")

#: metrics where a larger value is better (everything else: smaller is better)
HIGHER_IS_BETTER = frozenset({"modes_captured", "hq_fraction", "inception_score", "is", "precision", "recall",
                              "density", "coverage", "accuracy", "conditional_accuracy",
                              "label_acc_a2b", "label_acc_b2a"})
#: what picks the best checkpoint when train.best_metric is None, in order of preference
DEFAULT_BEST = ("reverse_kl", "fid", "kid", "modes_captured")


# -- random number generators ---------------------------------------------------------------------
def capture_rng(device: torch.device) -> dict[str, Any]:
    """Python, NumPy and torch (CPU, and this process's CUDA device) generator states, as plain data."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    random.setstate(_tuples(state["python"]))
    numpy = state["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["pos"], numpy["has_gauss"],
                         numpy["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _tuples(value: Any) -> Any:
    """random.setstate wants tuples all the way down."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


# -- files ---------------------------------------------------------------------------------------
def save_atomic(state: dict[str, Any], path: Path) -> None:
    """Write whole or not at all; a full disk removes the partial file and raises StorageError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if out_of_space(error):
            raise no_space(path, "the partial file was removed") from None
        raise


NOT_A_CHECKPOINT = ("is not a checkpoint: it is truncated, corrupt or a foreign file (a ganzoo checkpoint is a zip "
                    "archive written by torch.save). Delete it to use an earlier checkpoint of the run")


def read(path: Path, *, model: str | None = None) -> dict[str, Any]:
    """Load and check a checkpoint (CPU tensors). Never executes code from the file, and never relays
    PyTorch's advice to retry with ``weights_only=False``: that is exactly what must not happen."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    if not zipfile.is_zipfile(path):  # random bytes, a legacy pickle, a cut-off download
        raise CheckpointError(f"{path} {NOT_A_CHECKPOINT}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol notes: the error below says what matters
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL [\w.]+", str(error))
        if found is None:
            raise CheckpointError(f"{path} {NOT_A_CHECKPOINT}") from None
        raise CheckpointError(f"{path} contains Python objects other than tensors and plain data ({found.group(0)}), "
                              "so it was not written by ganzoo; refusing to load it, as loading could run code") from None
    except Exception as error:  # noqa: BLE001 - zip/EOF/OS errors all mean an unreadable file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        first = first.split(". ")[0]  # torch's first sentence; its advice is not ours to give
        raise CheckpointError(f"{path} {NOT_A_CHECKPOINT} ({first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ganzoo checkpoint (no '{FORMAT}' header)")
    version = state.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"{path} has checkpoint format {version}, newer than the {VERSION} this ganzoo reads; "
                              "upgrade ganzoo to load it")
    if model is not None and state.get("model") != model:
        raise CheckpointError(f"{path} was written by model {state.get('model')!r}, not {model!r} (the run's "
                              "model); a checkpoint only fits the model that wrote it")
    return state


def metric_direction(spec: str) -> tuple[str, str]:
    """'max:modes_captured' → ('modes_captured', 'max'); 'fid' → ('fid', 'min')."""
    if spec.startswith(("max:", "min:")):
        mode, name = spec.split(":", 1)
        return name, mode
    return spec, "max" if spec in HIGHER_IS_BETTER else "min"


def pick_metric(best_metric: str | None, metrics: dict[str, Any]) -> tuple[str, str, float] | None:
    """(name, 'min'|'max', value) of the metric that ranks checkpoints, when the metrics have it."""
    candidates = [best_metric] if best_metric else list(DEFAULT_BEST)
    for spec in candidates:
        name, mode = metric_direction(spec)
        value = metrics.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return name, mode, float(value)
    return None


class CheckpointStore:
    """The ``checkpoints/`` folder of a run: save, list, prune, find latest/best."""

    def __init__(self, directory: Path, keep: int = 3, best_metric: str | None = None) -> None:
        self.directory = Path(directory)
        self.keep = keep
        self.best_metric = best_metric

    # index ------------------------------------------------------------------------------------
    def _index(self) -> dict[str, Any]:
        path = self.directory / INDEX
        if path.is_file():
            try:
                index = json.loads(path.read_text())
                if isinstance(index, dict) and isinstance(index.get("checkpoints"), list):
                    return index
            except (OSError, json.JSONDecodeError):
                pass
        # no (readable) index: rebuild it from the file names
        return {"format": FORMAT, "checkpoints": [{"step": step, "file": path.name} for step, path in self.files()],
                "best": None}

    def files(self) -> list[tuple[int, Path]]:
        """(step, path) of every checkpoint file present, oldest first."""
        if not self.directory.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.directory.iterdir() if (m := NAME.match(p.name))]
        return sorted(found)

    def latest(self) -> Path | None:
        files = self.files()
        return files[-1][1] if files else None

    def best(self) -> Path | None:
        best = self._index().get("best")
        if best and (self.directory / best["file"]).is_file():
            return self.directory / best["file"]
        return None

    def resolve(self, which: str | int | Path = "last") -> Path:
        """'last', 'best', a step number, or a path to a checkpoint file."""
        if isinstance(which, Path) or (isinstance(which, str) and which.endswith(".pt")):
            return Path(which)
        if which in ("last", "latest"):
            path = self.latest()
        elif which == "best":
            path = self.best()
            if path is None:
                raise CheckpointError(f"no best checkpoint in {self.directory}: none was written at an evaluation "
                                      "(set train.eval_every and train.checkpoint_every to the same interval)")
        else:
            path = self.directory / f"step_{int(which):07d}.pt"
            if not path.is_file():
                steps = ", ".join(str(s) for s, _ in self.files()) or "none"
                raise CheckpointError(f"no checkpoint for step {which} in {self.directory} (steps present: {steps})")
        if path is None:
            raise CheckpointError(f"no checkpoint in {self.directory}")
        return path

    # writing ----------------------------------------------------------------------------------
    def save(self, step: int, state: dict[str, Any], metrics: dict[str, Any] | None = None) -> Path:
        path = self.directory / f"step_{step:07d}.pt"
        save_atomic(state, path)
        index = self._index()
        entries = [e for e in index["checkpoints"] if e["step"] != step and (self.directory / e["file"]).is_file()]
        entries.append({"step": step, "file": path.name, "metrics": _plain(metrics or {})})
        entries.sort(key=lambda e: e["step"])
        best = index.get("best")
        if best and best["step"] >= step and best["step"] != step:
            best = None  # a rollback rewrote history after the old best: forget it
        ranked = pick_metric(self.best_metric, metrics or {})
        if ranked is not None:
            name, mode, value = ranked
            better = (best is None or best.get("metric") != name
                      or (value < float(best["value"]) if mode == "min" else value > float(best["value"])))
            if better:
                best = {"step": step, "file": path.name, "metric": name, "mode": mode, "value": value}
        keep = {e["file"] for e in entries[-self.keep:]} | ({best["file"]} if best else set())
        for entry in entries:
            if entry["file"] not in keep:
                (self.directory / entry["file"]).unlink(missing_ok=True)
        entries = [e for e in entries if e["file"] in keep]
        write_json_atomic(self.directory / INDEX, {"format": FORMAT, "version": VERSION, "checkpoints": entries,
                                                   "best": best})
        return path

    def discard_after(self, step: int) -> None:
        """Forget checkpoints of steps after ``step`` (a resumed or rolled-back run rewrites them)."""
        for s, path in self.files():
            if s > step:
                path.unlink(missing_ok=True)


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}


# -- for `ganzoo sample` and notebooks ----------------------------------------------------------------
def pick_generator(nets: Any, ema: Any, which: str, run_dir: Path | str) -> Any:
    """The networks to sample from: the trained ones (``raw``) or those with the EMA generators (``ema``)."""
    if which not in ("raw", "ema"):
        raise CheckpointError(f"the generator must be 'raw' (the trained weights) or 'ema' (their moving average), "
                              f"got {which!r}")
    if which == "ema" and ema is None:
        raise CheckpointError(f"{run_dir} kept no EMA generator (train.ema_decay was not set); use the trained "
                              "one: --generator raw (Python: which='raw')")
    return ema if which == "ema" else nets


def load_networks(run_dir: Path | str, which: str | int | Path = "last", device: torch.device | str = "cpu"):
    """``(plugin, networks, ema_networks_or_None)`` from a run directory's checkpoint.

    ``which``: 'last' (default), 'best', a step number, or a checkpoint path. ``networks`` are the
    trained networks by name; ``ema_networks`` (when the run used ``train.ema_decay``) is the same
    mapping with the generators replaced by their moving averages, ready for ``plugin.sample``.
    Networks are in eval mode on ``device``.
    """
    from ..contract import registry
    from ..contract.config import RunConfig
    from ..contract.gan_plugin import Networks
    from ..contract.model_spec import DataInfo
    from ..contract.tricks_config import TricksConfig

    run_dir = Path(run_dir)
    recorded = _recorded_config(run_dir)
    store = CheckpointStore(run_dir / "checkpoints")
    path = store.resolve(which)
    state = read(path, model=recorded["model"])
    run = RunConfig.model_validate(json.loads(state["config"]))
    changed = config_changes(recorded, run.model_dump(mode="json"))  # both through RunConfig: same defaults
    if changed:
        raise CheckpointError(f"{path} was written with another configuration than the run in {run_dir} recorded "
                              "(config.json → checkpoint): " + "; ".join(changed) + ". It belongs to another run; "
                              "use that run's directory")
    plugin_entry = registry.get(run.model)
    config = plugin_entry.cls.Config.model_validate(run.params)
    data_info = DataInfo.model_validate_json(state["data_info"])
    tricks: TricksConfig = run.train.tricks
    plugin = plugin_entry.cls(config, data_info, tricks)
    device = torch.device(device)

    def build() -> Networks:
        return Networks({name: net.to(device) for name, net in plugin.build().items()})

    nets = build()
    _load_into(nets, state["networks"], path)
    for net in nets.values():
        net.eval()
    ema = None
    if state.get("ema"):
        averaged = build()
        _load_into(averaged, state["networks"], path)
        _load_into(averaged, state["ema"], path)
        from .ema import standing_batchnorm

        # the averaged weights need BatchNorm statistics of their own (checkpoints between evaluations hold G's)
        standing_batchnorm(plugin, averaged, plugin.generators, device, seed=run.train.seed + 4242)
        for net in averaged.values():
            net.eval()
        ema = averaged
    return plugin, nets, ema


def _recorded_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.json: what its checkpoints must match (as ``--resume`` checks)."""
    try:
        recorded = json.loads((run_dir / "config.json").read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{run_dir} is not a run directory (no config.json): pass the folder `ganzoo run` "
                              "wrote") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{run_dir}/config.json cannot be read ({error})") from None
    from pydantic import ValidationError

    from ..contract.config import RunConfig

    try:
        run = RunConfig.model_validate({k: recorded[k] for k in RUN_FIELDS if k in recorded})
    except (ValidationError, TypeError) as error:
        raise CheckpointError(f"{run_dir}/config.json is not a valid ganzoo run configuration "
                              f"({str(error).splitlines()[0]})") from None
    return run.model_dump(mode="json")


def _load_into(nets: dict, states: dict[str, Any], path: Path) -> None:
    for name, sd in states.items():
        if name not in nets:
            raise CheckpointError(f"{path} holds a network {name!r} that the plugin does not build "
                                  f"(it builds {sorted(nets)})")
        try:
            nets[name].load_state_dict(sd)
        except RuntimeError as error:
            raise CheckpointError(f"{path}: network {name!r} does not match the plugin's architecture "
                                  f"(was the model's config changed?): {str(error).splitlines()[0]}") from None


# -- what differs between two run configurations ------------------------------------------------------
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
