"""``summary.json`` and ``report.md`` at the end of a run (and when it stops early)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..evaluation.scoring import parameter_count
from ..report.diagnostics import TrainingWarning
from ..report.environment import environment
from ..report.markdown import write_report
from .state import state_identical

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer


def write_summary(t: Trainer, stopped: str | None = None) -> dict[str, Any]:
    summary = build_summary(t)
    if stopped:
        summary["stopped"] = stopped
    if t.is_main:
        t.run_dir.write_summary(summary)
        write_report(t.run_dir.path)
    return summary


def build_summary(t: Trainer) -> dict[str, Any]:
    if t.dist.enabled and t.replicas_identical is None:
        t.replicas_identical = t.dist.replicas_identical(t.nets.values())
    warnings = [w.as_dict() for w in t.warnings.issued]
    warnings += [TrainingWarning("data", 0, message).as_dict() for message in getattr(t.source, "data_warnings", [])]
    if t.dist.enabled and t.ctx.state and t.state_identical is None:
        t.state_identical = state_identical(t)
    if t.replicas_identical is False or t.state_identical is False:
        warnings.append(TrainingWarning("replicas_differ", t.step, (
            "the processes' copies of the networks (or of the plugin's state) differ: distributed training lost synchronisation "
            "(please report this)")).as_dict())
    best = t.checkpoints.best()
    return {
        "model": t.run.model,
        "dataset": t.run.dataset,
        "preset": t.run.preset,
        "status": t.status,
        "steps": t.step,
        "metrics": t.last_metrics,
        #: False when train.evaluate=false: no metrics on purpose (not "none fits this data")
        "evaluated": t.run.train.evaluate,
        #: the plugin's own diagnostics (PhaseResult.diagnostics) at the last log record
        "diagnostics": dict(t.window.plugin_values),
        "scored_generator": t.scored_generator,
        "metrics_by_generator": t.metrics_by_generator or {t.scored_generator: t.last_metrics},
        "protocol": t.metric_protocols,
        "throughput": t.throughput_record(),
        "counters": dict(t.counters),
        "warnings": warnings,
        "precision": {"mode": t.precision.name, "requested": t.precision.choice.requested,
                      "reason": t.precision.choice.reason,
                      "loss_scales": dict(t._scales) if t.precision.scaled else {},
                      "amp_skipped": sum(v for k, v in t.counters.items() if k.endswith("amp_skipped"))},
        "distributed": {"processes": t.dist.world, "state_identical": t.state_identical,
                        "global_batch_size": t.run.train.batch_size * t.dist.world,
                        "replicas_identical": t.replicas_identical},
        "checkpoints": {"last": str(t.last_checkpoint) if t.last_checkpoint else None,
                        "best": str(best) if best else None,
                        "resumed_from": str(t.resumed_from) if t.resumed_from else None},
        "parameters": {name: parameter_count(net) for name, net in t.nets.items()},
        "train_seconds": t.throughput.train_seconds,
        "environment": environment(t.device, t.dist.world),
    }
