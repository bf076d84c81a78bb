"""A trained generator from a run directory or an exported artifact: ``ganzoo.load(...)`` → :class:`Generator`.

Samples are drawn exactly as a run draws its own (``evaluation.sampling.generate``: a seeded
``NoiseSource``, networks in eval mode, balanced labels for conditional models), so the same seed gives
the same samples from the run, from ``ganzoo sample`` and from an exported file, bit for bit on CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..contract.config import DEFAULT_GENERATOR, RunConfig
from ..contract.gan_plugin import GANPlugin, Networks
from ..contract.model_spec import DataInfo
from ..evaluation.sampling import generate, sample_labels
from ..contract.errors import ArtifactError, RunDirError, SampleError
from ..train.checkpoint import NAME, CheckpointStore, load_networks, pick_generator
from .artifact import describe, read_artifact, write_artifact

WHICH = ("ema", "raw")


class Generator:
    """A generator ready to sample: ``.sample(n, labels=None, seed=0)``, ``.to(device)``, ``.save(path)``."""

    def __init__(self, plugin: GANPlugin, nets: Networks, *, which: str, run: RunConfig, source: str,
                 step: int | None = None) -> None:
        self.plugin, self.nets, self.which, self.run, self.source, self.step = plugin, nets, which, run, source, step

    # -- what it is ----------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.run.model

    @property
    def dataset(self) -> str:
        return self.run.dataset

    @property
    def data(self) -> DataInfo:
        return self.plugin.data

    @property
    def shape(self) -> tuple[int, ...]:
        """One sample's shape: ``(2,)`` for points, ``(C, H, W)`` for images (values in [-1, 1])."""
        return tuple(self.plugin.data.shape)

    @property
    def num_classes(self) -> int | None:
        """Classes a conditional generator takes as labels (None: unconditional)."""
        return self.plugin.data.num_classes if self.plugin.spec.conditional else None

    @property
    def device(self) -> torch.device:
        return next(p.device for net in self.nets.values() for p in [*net.parameters(), *net.buffers()])

    def __repr__(self) -> str:
        step = f", step {self.step}" if self.step is not None else ""
        return (f"<ganzoo.Generator {self.model} on {self.dataset}: {self.which} generator{step}, samples of shape "
                f"{self.shape}{f', {self.num_classes} classes' if self.num_classes else ''}, from {self.source}>")

    # -- using it ------------------------------------------------------------------------------
    def to(self, device: torch.device | str) -> Generator:
        """Move the networks (``"cuda"``, ``"cpu"``, …); returns the generator itself."""
        for net in self.nets.values():
            net.to(torch.device(device))
        return self

    def labels(self, n: int, labels: int | Sequence[int] | Tensor | None) -> Tensor | None:
        """The labels ``sample`` uses: None → 0, 1, …, K−1 repeated (conditional) or none; an int → that class."""
        if labels is None or isinstance(labels, int):
            return sample_labels(self.plugin, n, labels)
        chosen = torch.as_tensor(labels)
        if not self.num_classes:
            raise SampleError(f"labels need a class-conditional model; {self.model} is unconditional")
        if chosen.ndim != 1 or len(chosen) != n or chosen.is_floating_point():
            raise SampleError(f"labels must be {n} integers (one per sample), got shape {tuple(chosen.shape)} "
                              f"of {chosen.dtype}")
        if int(chosen.min()) < 0 or int(chosen.max()) >= self.num_classes:
            raise SampleError(f"labels must be in 0..{self.num_classes - 1} for this generator, got "
                              f"{int(chosen.min())}..{int(chosen.max())}")
        return chosen.long()

    def sample(self, n: int, labels: int | Sequence[int] | Tensor | None = None, seed: int = 0,
               batch_size: int = 1000) -> Tensor:
        """``n`` samples (float32, on CPU) from seeded noise: images (N, C, H, W) in [-1, 1] or points (N, 2).

        ``labels`` (conditional models): None for every class in turn, an int for one class, or one label
        per sample. The same ``seed`` always gives the same samples."""
        if n < 1:
            raise SampleError(f"--n must be at least 1, got {n}")
        chosen = self.labels(n, labels)
        device = self.device
        return generate(self.plugin, self.nets, n, seed, device, chunk=batch_size,
                        labels=None if chosen is None else chosen.to(device))

    def translate(self, images: Tensor, direction: str = "a2b") -> Tensor:
        """Image-to-image models (CycleGAN): translate a batch (N, C, H, W) in [-1, 1]."""
        if not callable(getattr(self.plugin, "translate", None)):
            raise SampleError(f"model {self.model!r} does not translate images; use sample()")
        if direction not in ("a2b", "b2a"):
            raise SampleError(f"direction must be a2b or b2a, got {direction!r}")
        with torch.no_grad():
            return self.plugin.translate(self.nets, images.to(self.device), direction).float().cpu()

    def save(self, path: str | Path) -> dict[str, str]:
        """Export as one self-contained safetensors file (see ``ganzoo.harness.api.artifact``); returns its
        metadata, with ``file_sha256``."""
        return write_artifact(Path(path), self.plugin, self.nets, run=self.run, which=self.which, step=self.step,
                              source=self.source)


def load(source: Any, which: str | None = None, *, checkpoint: str | int = "last", device: torch.device | str = "cpu",
         sha256: str | None = None) -> Generator:
    """A :class:`Generator` from a run directory (a ``Run`` too) or an exported ``.safetensors`` file.

    ``which``: ``"raw"`` (the trained weights; the default, as for every command) or ``"ema"`` (the
    moving average, when the run kept one). An exported file holds one of them: None takes it. ``checkpoint``: ``last``, ``best`` or a step
    (run directories). ``sha256``: the expected sha256 of an artifact file (checked before loading)."""
    if which is not None and which not in WHICH:
        raise SampleError(f"which must be 'ema' or 'raw', got {which!r}")
    path = Path(getattr(source, "path", source))
    if path.is_file():
        plugin, nets, metadata, run = read_artifact(path, sha256=sha256, device=device)
        if which is not None and which != metadata["generator"]:
            raise ArtifactError(f"{path} holds the {metadata['generator']} generator only ({describe(metadata)}); "
                                f"export the {which} one from the run")
        step = int(metadata["step"]) if metadata.get("step", "").isdigit() else None
        return Generator(plugin, nets, which=metadata["generator"], run=run, source=metadata.get("source") or
                         str(path), step=step)
    if not path.is_dir():
        raise RunDirError(f"no run directory or exported generator at {path}")
    if not (path / "config.json").is_file():
        raise RunDirError(f"{path} is not a run directory (no config.json): pass the folder `ganzoo run` wrote, "
                          "or an exported .safetensors file")
    checkpoint = int(checkpoint) if isinstance(checkpoint, str) and checkpoint.isdigit() else checkpoint
    plugin, nets, ema = load_networks(path, checkpoint, device=device)
    chosen = which or DEFAULT_GENERATOR
    chosen_nets = pick_generator(nets, ema, chosen, path)
    named = NAME.match(CheckpointStore(path / "checkpoints").resolve(checkpoint).name)
    step = int(named.group(1)) if named else None
    return Generator(plugin, chosen_nets, which=chosen, run=RunConfig.from_run_dir(path),
                     source=path.name, step=step)
