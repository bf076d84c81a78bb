"""What the loop accumulates between two log records, and the record it turns into.

Losses and plugin logs are kept as device tensors and reduced once per log interval (mean and
standard error), so a log record costs one host sync, not one per step. Diagnostics (gradient
norms, D scores, loss scales) are measured on log iterations only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import torch
from torch import Tensor

from ..contract.gan_plugin import Networks, PhaseResult
from ..report.diagnostics import SpectralEstimator, discriminator_stats, weight_norm
from ..report.throughput import Throughput
from .distributed import Distributed


class LogWindow:
    def __init__(self, family: str) -> None:
        self.family = family
        self.values: dict[str, list[Tensor]] = defaultdict(list)
        self.diagnostics: dict[str, Any] = {}
        #: the plugins' own diagnostics (PhaseResult.diagnostics), the latest value of each (no host sync)
        self.plugin: dict[str, Tensor] = {}
        #: their values at the last log record (averaged over processes), as floats
        self.plugin_values: dict[str, float] = {}

    def add(self, phase: str, loss: Tensor, result: PhaseResult, measure: bool, loss_scale: float | None) -> None:
        self.values[f"{phase}/loss"].append(loss.detach())
        for key, value in result.logs.items():
            self.values[f"{phase}/{key}"].append(torch.as_tensor(value).detach().float())
        for key, value in result.diagnostics.items():
            self.plugin[f"{phase}/{key}"] = torch.as_tensor(value).detach().float().reshape(())
        if measure:
            stats = discriminator_stats(self.family, result.d_real, result.d_fake)
            self.diagnostics.update({f"{phase}/{key}": value for key, value in stats.items()})
            if loss_scale is not None:
                self.diagnostics[f"{phase}/loss_scale"] = loss_scale

    def clear(self) -> None:
        self.values.clear()
        self.diagnostics.clear()

    def record(self, step: int, nets: Networks, optimizers: dict[str, torch.optim.Optimizer],
               spectral: SpectralEstimator | None, dist: Distributed, throughput: Throughput,
               counters: dict[str, int]) -> dict[str, Any]:
        """The metrics.jsonl record of this interval (averaged over processes), emptying the window."""
        names = sorted(self.values)
        means, sems = {}, {}
        if names:
            stacked = [torch.stack(self.values[key]).float() for key in names]
            stats = torch.stack([torch.stack([s.mean(), s.std() / math.sqrt(len(s)) if len(s) > 1
                                              else torch.zeros((), device=s.device)]) for s in stacked]).tolist()
            means = {key: m for key, (m, _) in zip(names, stats)}
            # one value has no standard error (0 would claim a noiseless loss): leave it out
            sems = {key: e for key, (_, e), s in zip(names, stats, stacked) if len(s) > 1}
        self.values.clear()
        diagnostics = {key: float(value) for key, value in self.diagnostics.items()}
        self.diagnostics.clear()
        plugin_keys = sorted(self.plugin)
        if plugin_keys:  # the values at this step, not interval means
            diagnostics.update(zip(plugin_keys, torch.stack([self.plugin[k] for k in plugin_keys]).tolist()))
        for key, value in sems.items():
            if key.endswith("/loss"):
                diagnostics[f"{key}_sem"] = value
        for name, net in nets.items():
            diagnostics[f"{name}/weight_norm"] = weight_norm(net)
        for name, optimizer in optimizers.items():
            diagnostics[f"{name}/lr"] = optimizer.param_groups[0]["lr"]
        if spectral is not None:
            diagnostics.update(spectral.estimate())
        if dist.enabled:  # average the losses and per-phase statistics over ranks
            gathered = dist.gather_objects((means, diagnostics))
            means = average([g[0] for g in gathered])
            diagnostics = average([g[1] for g in gathered])
        self.plugin_values = {key: diagnostics[key] for key in plugin_keys}
        return {"step": step, "losses": means, "diagnostics": diagnostics,
                "throughput": throughput.combine(dist.gather_objects(throughput.local())),
                "counters": dict(counters)}

    # -- resumable state: a log interval may span a checkpoint ---------------------------------
    def state_dict(self) -> dict[str, Tensor]:
        return {key: torch.stack(values).cpu() for key, values in self.values.items() if values}

    def load_state_dict(self, state: dict[str, Tensor], device: torch.device) -> None:
        self.values = defaultdict(list, {key: list(values.to(device).unbind()) for key, values in state.items()})


def find_diagnostic(values: dict[str, float], name: str) -> float | None:
    """A plugin diagnostic by its recorded name ``"<phase>/<key>"``, or by ``"<key>"`` when one phase has it."""
    if name in values:
        return values[name]
    matches = [key for key in values if key.rsplit("/", 1)[-1] == name]
    return values[matches[0]] if len(matches) == 1 else None


def progress_stats(record: dict[str, Any]) -> dict[str, float]:
    """The few numbers the progress bar shows from a log record."""
    stats = {key.replace("/loss", ""): value for key, value in record["losses"].items() if key.endswith("/loss")}
    throughput = record["throughput"]
    stats["img/s"] = throughput["images_per_s"]
    if throughput["iterations_per_s"] > 0:
        stats["ms/it"] = 1000 / throughput["iterations_per_s"]
    stats["data%"] = 100 * throughput["data_share"]
    return stats


def average(dicts: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({key for d in dicts for key in d})
    return {key: sum(d[key] for d in dicts if key in d) / sum(1 for d in dicts if key in d) for key in keys}
