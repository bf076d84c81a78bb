"""``summary.json`` and ``report.md`` at the end of a run (and when it stops early), read from its ``RunState``."""

from __future__ import annotations

from typing import Any

from ..evaluation.plugin_scoring import parameter_count
from ..report.diagnostics import TrainingWarning
from ..report.environment import environment
from ..report.markdown import write_report
from .run_state import RunState
from .state import state_identical


def write_summary(s: RunState, stopped: str | None = None) -> dict[str, Any]:
    summary = build_summary(s)
    if stopped:
        summary["stopped"] = stopped
    if s.is_main:
        s.run_dir.write_summary(summary)
        write_report(s.run_dir.path)
    return summary


def build_summary(s: RunState) -> dict[str, Any]:
    if s.dist.enabled and s.replicas_identical is None:
        s.replicas_identical = s.dist.replicas_identical(s.nets.values())
    warnings = [w.as_dict() for w in s.warnings.issued]
    warnings += [TrainingWarning("data", 0, message).as_dict() for message in getattr(s.source, "data_warnings", [])]
    if s.dist.enabled and s.ctx.state and s.state_identical is None:
        s.state_identical = state_identical(s)
    if s.replicas_identical is False or s.state_identical is False:
        warnings.append(TrainingWarning("replicas_differ", s.step, (
            "the processes' copies of the networks (or of the plugin's state) differ: distributed training lost synchronisation "
            "(please report this)")).as_dict())
    best = s.checkpoints.best()
    return {
        "model": s.run.model,
        "dataset": s.run.dataset,
        "preset": s.run.preset,
        "status": s.status,
        "steps": s.step,
        "metrics": s.last_metrics,
        #: False when train.evaluate=false: no metrics on purpose (not "none fits this data")
        "evaluated": s.run.train.evaluate,
        #: the plugin's own diagnostics (PhaseResult.diagnostics) at the last log record
        "diagnostics": dict(s.window.plugin_values),
        "scored_generator": s.scored_generator,
        "metrics_by_generator": s.metrics_by_generator or {s.scored_generator: s.last_metrics},
        "protocol": s.metric_protocols,
        "throughput": s.throughput_record(),
        "counters": dict(s.counters),
        "warnings": warnings,
        "precision": {"mode": s.precision.name, "requested": s.precision.choice.requested,
                      "reason": s.precision.choice.reason,
                      "loss_scales": dict(s.scales) if s.precision.scaled else {},
                      "amp_skipped": sum(v for k, v in s.counters.items() if k.endswith("amp_skipped"))},
        "distributed": {"processes": s.dist.world, "state_identical": s.state_identical,
                        "global_batch_size": s.run.train.batch_size * s.dist.world,
                        "replicas_identical": s.replicas_identical},
        "checkpoints": {"last": str(s.last_checkpoint) if s.last_checkpoint else None,
                        "best": str(best) if best else None,
                        "resumed_from": str(s.resumed_from) if s.resumed_from else None},
        "parameters": {name: parameter_count(net) for name, net in s.nets.items()},
        "train_seconds": s.throughput.train_seconds,
        "environment": environment(s.device, s.dist.world),
    }
