"""``ganzoo.train(...)`` → :class:`Run`, and the two steps ``ganzoo run`` shares with it.

:func:`prepare_run` turns options into a validated ``RunConfig``, the plugin and the run directory
(preset → explicit options → overrides → validation, or a saved run for ``resume``); :func:`open_trainer`
builds the :class:`~ganzoo.harness.train.trainer.Trainer`. ``ganzoo run`` calls both, then adds what only
a command line has (launching several processes, printing the summary table), so the command and
the function validate alike and fail with the same one-line messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..contract.config import RunConfig
from ..contract.errors import ConfigError, RunDirError
from ..contract.registry import LoadedPlugin
from ..report.rundir import RunDir, default_run_dir
from ..report.trackers import parse_log_with
from ..train.resolve import resolve_run
from ..train.resume import data_dir_for, extractor_weights_for, resume_run
from ..train.trainer import Trainer

TRAIN_FLAGS = ("steps", "batch_size", "seed", "precision")  # the train.* settings with options of their own


class Run:
    """A run directory written by ``ganzoo run`` or ``ganzoo.train``: its config, summary, records and generator."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(getattr(path, "path", path))
        if not (self.path / "config.json").is_file():
            raise RunDirError(f"{self.path} is not a run directory (no config.json): pass the folder `ganzoo run` "
                              "wrote")

    def __fspath__(self) -> str:
        return str(self.path)

    def _json(self, name: str) -> dict[str, Any]:
        path = self.path / name
        return json.loads(path.read_text()) if path.is_file() else {}

    @property
    def config(self) -> dict[str, Any]:
        """config.json: the fully resolved configuration (model, dataset, preset, train, params, data)."""
        return self._json("config.json")

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json (empty while the run has none): metrics with protocols, throughput, warnings, …"""
        return self._json("summary.json")

    @property
    def status(self) -> str:
        """completed | time-limit | interrupted | stopped | running (no summary yet)."""
        return self.summary.get("status", "running")

    @property
    def metrics(self) -> dict[str, Any]:
        """The scored generator's final metrics (summary.json → metrics)."""
        return self.summary.get("metrics", {})

    def history(self) -> list[dict[str, Any]]:
        """Every metrics.jsonl record: losses, diagnostics, throughput and counters per log interval."""
        return RunDir(self.path, resume=True).read_metrics()

    def load(self, which: str | None = None, **options: Any):
        """The trained generator (see :func:`ganzoo.load`)."""
        from .generator import load

        return load(self.path, which, **options)

    def sample(self, n: int, labels: Any = None, seed: int = 0, which: str | None = None) -> Any:
        """``n`` samples from the run's generator (the trained one, unless ``which="ema"``), as ``Generator.sample``."""
        return self.load(which).sample(n, labels=labels, seed=seed)

    def evaluate(self, metrics: list[str] | None = None, **options: Any) -> dict[str, Any]:
        """Score a checkpoint again and append the result to summary.json (see :func:`ganzoo.evaluate`)."""
        from .scoring import evaluate

        return evaluate(self, metrics=metrics, **options)

    def export(self, out: str | Path, which: str | None = None, checkpoint: str | int = "last") -> Path:
        """Write the generator as one self-contained .safetensors file; returns its path."""
        self.load(which, checkpoint=checkpoint).save(out)
        return Path(out)

    def report(self, html: bool = False) -> Path:
        """(Re)write report.md (and report.html); returns the path written last."""
        from ..report.markdown import write_html, write_report

        written = write_report(self.path)
        return write_html(self.path) if html else written

    def __repr__(self) -> str:
        config = self.config
        return f"<ganzoo.Run {config.get('model')} on {config.get('dataset')}: {self.status}, {self.path}>"

    def _repr_markdown_(self) -> str:  # notebooks show the final metrics as a table
        lines = [f"**{self.config.get('model')}** on **{self.config.get('dataset')}** — {self.status} — `{self.path}`"]
        if self.metrics:
            lines += ["", "| metric | value |", "| --- | --- |"]
            lines += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in self.metrics.items()]
        return "\n".join(lines)


def assignments_from(overrides: dict[str, Any]) -> list[str]:
    """``{"lr_g": 5e-4, "train": {"ema_decay": 0.999}, "train.tricks.pack": 4}`` → ``--set``-style strings."""
    flat: dict[str, Any] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for inner, item in value.items():
                walk(item, f"{key}.{inner}" if key else str(inner))
        else:
            flat[key] = value

    walk(overrides, "")
    items = []
    for key, value in flat.items():
        try:
            items.append(f"{key}={json.dumps(value)}")
        except TypeError:
            raise ConfigError(f"invalid value for '{key}': {value!r} is not a number, string, boolean, list or "
                              "None") from None
    return items


def prepare_run(model: str, *, dataset: str | None = None, preset: str | None = None, out: str | Path | None = None,
                resume: str | Path | None = None, train_overrides: dict[str, Any] | None = None,
                assignments: list[str] = (), log_with: str | list[str] | None = None
                ) -> tuple[RunConfig, LoadedPlugin, Path]:
    """(validated config, plugin, run directory) for a new run, or for continuing ``resume``; ``log_with`` is
    checked here too, so a missing tracker package stops the run before its directory exists."""
    parse_log_with(log_with)
    train_overrides = {k: v for k, v in (train_overrides or {}).items() if v is not None}
    if resume is not None:
        resume = Path(resume)
        if out is not None and Path(out).resolve() != resume.resolve():
            raise ConfigError(f"--resume {resume} continues that directory; --out {out} names another")
        config, plugin = resume_run(resume, model, dataset=dataset, preset=preset, train_overrides=train_overrides,
                                    assignments=list(assignments))
        return config, plugin, resume
    config, plugin = resolve_run(model, dataset=dataset, preset=preset, train_overrides=train_overrides,
                                 assignments=list(assignments))
    return config, plugin, Path(out) if out is not None else default_run_dir(config.model, config.dataset)


def open_trainer(config: RunConfig, plugin: LoadedPlugin, path: Path, *, resume: bool = False, worker: bool = False,
                 data_dir: Path | None = None, download: bool = False, cpu: bool = False, progress: bool = True,
                 time_limit: float | None = None, log_with: str | tuple[str, ...] | None = None,
                 extractor_weights: Path | None = None) -> Trainer:
    """The trainer of this run, its directory claimed (a used one is refused unless resuming). A resumed run
    reads its data and extractor weights from the folders it recorded, unless told otherwise."""
    if resume:
        data_dir = data_dir_for(Path(path), Path(data_dir) if data_dir else None)
        extractor_weights = extractor_weights_for(Path(path), extractor_weights)
    run_dir = RunDir(path, resume=resume or worker)
    return Trainer(config, plugin, run_dir, data_dir=Path(data_dir) if data_dir else None, download=download, cpu=cpu,
                   progress=progress, resume=resume, time_limit_s=time_limit, log_with=log_with,
                   extractor_weights=extractor_weights)


def train(model: str, dataset: str | None = None, *, preset: str | None = None, steps: int | None = None,
          out: str | Path | None = None, batch_size: int | None = None, seed: int | None = None,
          precision: str | None = None, data_dir: str | Path | None = None, download: bool = False, cpu: bool = False,
          progress: bool = True, log_with: str | list[str] | None = None, resume: str | Path | None = None,
          time_limit: float | None = None, **overrides: Any) -> Run:
    """Train ``model`` in this process and return its :class:`Run` (what ``ganzoo run`` does, without a terminal).

    ``overrides`` are what ``--set`` takes: a field of the model's config (``lr_g=5e-4``), or harness settings
    as ``train={"ema_decay": 0.999}`` or ``**{"train.tricks.pack": 4}``. Invalid values raise ``ConfigError``
    (``PresetError``, ``RegistryError``, ``DataError``, … — all ``GanzooError``) with the command's message.
    ``progress``: a live bar on a terminal (and in Jupyter with ipywidgets), a line per 10 % elsewhere.
    ``log_with``: ``"tensorboard"``, ``"wandb"``, ``"mlflow"``, ``"trackio"`` or a list. Interrupting
    (Ctrl-C, a notebook's stop button) finishes the step and checkpoints: the Run's ``status`` is then
    ``interrupted`` and ``train(model, resume=run.path)`` continues it. Data-parallel training is
    ``ganzoo run --gpus N`` / ``--processes N``."""
    flags = {"steps": steps, "batch_size": batch_size, "seed": seed, "precision": precision}
    config, plugin, path = prepare_run(model, dataset=dataset, preset=preset, out=out, resume=resume,
                                       train_overrides=flags, assignments=assignments_from(overrides),
                                       log_with=log_with)
    trainer = open_trainer(config, plugin, path, resume=resume is not None, data_dir=data_dir, download=download,
                           cpu=cpu, progress=progress, time_limit=time_limit, log_with=log_with)
    trainer.fit()
    return Run(trainer.state.run_dir.path)
