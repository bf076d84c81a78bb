"""The state the conformance checks share, built lazily as the checks ask for it: the loaded plugin
(and its monitored subclass), the check's run configuration, the built networks, the fp32 run and
sampling as the harness does it.

Each family of checks (discovery, build, training, resume, data-parallel) takes a
:class:`CheckSession`; a later check reuses what an earlier one built (one fp32 run serves the
contract, fp32 and resume checks) and skips, naming the culprit, when what it needs failed.

How a check ends is shared by every family too: the :class:`Skip`/:class:`Fail`/:class:`Warn` outcomes
the session's caller catches, and :func:`error_text`, the one-line, file-and-line text a check reports
when plugin code raises.
"""

from __future__ import annotations

import contextlib
import io
import os
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .monitor import ContractMonitor, package_dir, where

if TYPE_CHECKING:  # pragma: no cover
    from ..train.trainer import Trainer


class Skip(Exception):
    """A check that cannot run because another one failed; the message names it."""


class Fail(Exception):
    """A failed check with its precise detail."""


class Warn(Exception):
    """A check that passed with a caveat."""


def error_text(error: BaseException) -> str:
    """'Type: message (file:line)', the line being the innermost frame outside torch."""
    import torch

    torch_dir = package_dir(torch)
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(f.filename).startswith(torch_dir)]
    location = f" (at {where(frames[-1].filename, frames[-1].lineno)})" if frames else ""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}{location}" if message else f"{type(error).__name__}{location}"


#: the most iterations the training checks take to let every interval phase (``Phase.every``) run twice
MAX_INTERVAL_STEPS = 64

#: the check's harness settings; a ``NAME/check`` preset's ``train`` table and ``--set train.X`` override them
CHECK_TRAIN: dict[str, Any] = {
    "steps": 4, "batch_size": 16, "eval_samples": 64, "log_every": 2, "eval_every": 0, "sample_every": 0,
    "checkpoint_every": 0, "nan_policy": "stop", "nan_patience": 1,
}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The trainer's progress lines would drown the report: keep them."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


class CheckSession:
    """What the checks of one plugin share; see the module docstring."""

    def __init__(self, name: str, dataset: str | None, assignments: Sequence[str], data_dir: Path | None,
                 workdir: Path, processes: int) -> None:
        self.name, self.dataset, self.assignments = name, dataset, list(assignments)
        self.data_dir, self.workdir, self.processes = data_dir, workdir, processes
        self.monitor = ContractMonitor()
        self.plugin: Any = None  # LoadedPlugin
        self.guarded: Any = None  # LoadedPlugin whose class runs under the monitor
        self.run: Any = None  # RunConfig
        self.run_error: str | None = None
        self.config_source = ""
        self._built: Any = None
        #: interval phases (``Phase.every`` > 1, the harness's lazy R1 included): name → every
        self.intervals: dict[str, int] | None = None
        self.interval_note = ""
        self._fp32: tuple[Any, BaseException | None] | None = None
        self._dirs = 0

    # -- lazily shared state ------------------------------------------------------------------------
    def fresh_dir(self, label: str) -> Path:
        self._dirs += 1
        return self.workdir / f"{self._dirs:02d}-{label}"

    def need_plugin(self) -> None:
        if self.plugin is None:
            raise Skip("the plugin did not load (see discovery)")

    def need_run(self) -> None:
        self.need_plugin()
        if self.run is None:
            raise Skip(f"no usable check configuration (see spec): {self.run_error}")

    def resolve(self) -> None:
        from ..contract.presets import presets_for
        from ..contract.errors import ConfigError, DataError, PresetError
        from ..train.resolve import resolve_run

        check_preset = f"{self.name}/check"
        try:
            available = presets_for(self.name)
            if check_preset in available:
                preset_train = available[check_preset].train
                overrides = {k: v for k, v in CHECK_TRAIN.items() if k not in preset_train}
                self.run, _ = resolve_run(self.name, dataset=self.dataset, preset=check_preset,
                                          train_overrides=overrides, assignments=self.assignments)
            else:
                self.run, _ = resolve_run(self.name, dataset=self.dataset, train_overrides=dict(CHECK_TRAIN),
                                          assignments=self.assignments)
        except (ConfigError, PresetError, DataError, ValueError) as error:
            self.run_error = str(error).replace("\n", "; ")
            return
        self.config_source = f"preset {self.run.preset}" if self.run.preset else "the config's defaults"
        if self.dataset is None:  # no dataset asked for: generated data when the default's files are absent
            self._synthetic_if_absent()
        if self.assignments:
            self.config_source += f" + {len(self.assignments)} --set"

    def _synthetic_if_absent(self) -> None:
        from ..contract.errors import DataError
        from ..data.catalog import SYNTHETIC, dataset_kind, open_dataset
        from ..data.base import DataRequest
        from ..train.resolve import resolve_run

        train = self.run.train
        try:
            with _quiet(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a probe: the build check opens it again and shows its warnings
                open_dataset(self.run.dataset, DataRequest(seed=train.seed, data_dir=self.data_dir,
                                                           resolution=train.resolution, holdout=train.holdout))
            return
        except DataError as error:
            missing = f"{self.run.dataset} is not on disk ({str(error).splitlines()[0]})"
        synthetic = SYNTHETIC[dataset_kind(self.run.dataset)]
        overrides = {k: v for k, v in self.run.train.model_dump(mode="json").items() if k in CHECK_TRAIN}
        try:
            self.run, _ = resolve_run(self.name, dataset=synthetic, preset=self.run.preset, train_overrides=overrides,
                                      assignments=self.assignments)
        except ValueError:  # the configuration does not fit generated data: the build check reports the absence
            return
        self.config_source += f" (generated data, as {missing})"

    def built(self) -> tuple[Any, Any, Any]:
        """(plugin instance, networks, data source), built once as the trainer builds them."""
        if self._built is None:
            from accelerate.utils import set_seed

            from ..data.base import DataRequest
            from ..data.catalog import open_dataset
            from ..contract.gan_plugin import Networks

            self.need_run()
            train = self.run.train
            source = open_dataset(self.run.dataset, DataRequest(seed=train.seed, data_dir=self.data_dir,
                                                                resolution=train.resolution, holdout=train.holdout))
            info = source.info.model_copy(update={"pack": train.tricks.pack})
            config = self.plugin.cls.Config.model_validate(self.run.params)
            instance = self.guarded.cls(config, info, train.tricks)
            set_seed(train.seed)
            built = instance.build()
            self._built = (instance, built, source)
            if isinstance(built, dict):
                self._built = (instance, Networks(built), source)
        return self._built

    def need_intervals(self) -> None:
        """Interval phases run only every k-th iteration: lengthen the training checks (to at most
        :data:`MAX_INTERVAL_STEPS`) so each runs at least twice, once on each side of the resume check's
        checkpoint. Called by every check that trains, before it reads ``run.train.steps``."""
        if self.intervals is not None:
            return
        self.intervals = {}
        try:
            instance, _, _ = self.built()
            phases = instance.phases()
            from ..train.lazy_r1 import phase_name

            self.intervals = {p.name: p.every for p in phases if getattr(p, "every", 1) > 1}
        except Exception:  # noqa: BLE001 - the build and training checks report what is wrong
            return
        tricks = self.run.train.tricks
        if tricks.r1_every > 1 and tricks.r1_gamma:
            self.intervals[phase_name(phases)] = tricks.r1_every  # the harness's lazy R1
        if not self.intervals:
            return
        steps = self.run.train.steps
        wanted = min(max(steps, 2 * max(self.intervals.values())), max(steps, MAX_INTERVAL_STEPS))
        if wanted > steps:
            self.run = self.run.model_copy(update={"train": self.run.train.model_copy(update={"steps": wanted})})
            self.interval_note = f" ({wanted} steps, not {steps}, so that interval phases run twice)"

    def trainer(self, precision: str, steps: int, path: Path, resume: bool = False) -> Trainer:
        """A trainer of the check's run. Check runs skip metrics and plots (image metrics would train a
        classifier first); the samples and seed checks exercise sample() directly."""
        from ..report.rundir import RunDir
        from ..train.trainer import Trainer

        train = self.run.train.model_copy(update={"precision": precision, "steps": steps})
        run = self.run.model_copy(update={"train": train})
        with _quiet():
            return Trainer(run, self.guarded, RunDir(path, resume=resume), data_dir=self.data_dir, cpu=True,
                           progress=False, resume=resume, evaluate_and_plot=False)

    def fit(self, trainer: Trainer) -> dict[str, Any]:
        with _quiet():
            return trainer.fit()

    def fp32_run(self) -> tuple[Trainer | None, BaseException | None]:
        if self._fp32 is None:
            self.need_run()
            self.need_intervals()
            trainer, error = None, None
            try:
                trainer = self.trainer("fp32", self.run.train.steps, self.fresh_dir("fp32"))
                self.fit(trainer)
            except Exception as caught:  # noqa: BLE001 - reported by the checks that use this run
                error = caught
            self._fp32 = (trainer, error)
        return self._fp32

    def need_contract(self) -> None:
        if self.monitor.violations:
            raise Skip("the plugin breaks the contract (see contract)")

    def sample(self, instance: Any, nets: Any, n: int, seed: int) -> Any:
        """sample() as the harness calls it (evaluation.generate), but returning the raw output."""
        import torch

        from ..contract.context import NoiseSource
        from ..evaluation.sampling import balanced_labels, eval_mode

        device = torch.device("cpu")
        noise = NoiseSource(device, seed)
        labels = balanced_labels(n, instance.data.num_classes, device) if instance.spec.conditional else None
        with torch.no_grad(), eval_mode(nets):
            return instance.sample(nets, noise, n, labels)

    def built_for_sampling(self) -> tuple[Any, Any]:
        try:
            instance, nets, _ = self.built()
        except Exception as error:  # noqa: BLE001
            raise Skip(f"the networks did not build (see build): {error_text(error)}") from None
        if not isinstance(nets, dict):
            raise Skip("build() did not return networks (see build)")
        return instance, nets
