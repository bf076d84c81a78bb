"""``ganzoo sample RUN_DIR --n 64 [--class K] [--out FILE]``: a sample grid from a saved run.

The networks come from the run directory's checkpoint (``harness.train.checkpoint.load_networks``: the
plugin rebuilt from the checkpoint's config and weights, loaded with ``weights_only=True``); the EMA
generator is used when the run kept one, as for the grids written during training.
Noise is seeded (``--seed``), so the same command draws the same grid again. Conditional models
draw one column per class, or only class K with ``--class K``. ``--view NAME`` renders one of the
plugin's named sample views instead (``GANPlugin.sample_views``, e.g. InfoGAN's ``traversal``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:  # pragma: no cover - torch loads when a grid is drawn, not at `ganzoo --help`
    from ..contract.gan_plugin import GANPlugin, Networks


def __getattr__(name: str):
    """``SampleError`` and ``sample_labels`` live in ``harness.evaluation.sampling`` (which loads torch);
    they stay importable from here without loading torch when this module is imported."""
    if name in ("SampleError", "sample_labels"):
        from ..evaluation import sampling

        return getattr(sampling, name)
    raise AttributeError(name)


def render_samples(plugin: GANPlugin, nets: Networks, out: Path, n: int = 64, class_index: int | None = None,
                   seed: int = 0) -> Path:
    """Draw ``n`` samples from ``nets`` and write them to ``out`` as a grid (images) or scatter (points)."""
    from ..contract.model_spec import DataKind
    from ..evaluation.sampling import sample_labels
    from ..contract.errors import SampleError
    from ..evaluation.sampling import generate
    from ..report.plots import image_grid

    if n < 1:
        raise SampleError(f"--n must be at least 1, got {n}")
    labels = sample_labels(plugin, n, class_index)
    device = next(next(iter(nets.values())).parameters()).device
    samples = generate(plugin, nets, n, seed, device, labels=labels)
    if plugin.data.kind == DataKind.points2d:
        _scatter(samples, out, title=f"{plugin.spec.name}: {n} samples")
        return out
    classes = plugin.data.num_classes if plugin.spec.conditional and class_index is None else None
    image_grid(samples, out, nrow=classes if classes and classes <= 16 else 8)
    return out


def render_view_file(plugin: GANPlugin, nets: Networks, view: str, out: Path, seed: int = 0) -> Path:
    """The plugin's sample view ``view`` as an image grid at ``out``."""
    from ..evaluation.sampling import render_view
    from ..contract.errors import SampleError
    from ..report.plots import image_grid

    device = next(next(iter(nets.values())).parameters()).device
    try:
        images, nrow = render_view(plugin, nets, view, seed, device)
    except KeyError as error:
        raise SampleError(error.args[0]) from None
    image_grid(images, out, nrow=nrow)
    return out


def _scatter(points: torch.Tensor, path: Path, title: str) -> None:
    from ..report.plots import figure

    path.parent.mkdir(parents=True, exist_ok=True)
    fig = figure(figsize=(5, 5), dpi=100)
    ax = fig.subplots()
    ax.scatter(points[:, 0], points[:, 1], s=4, c="tab:orange", linewidths=0)
    ax.set_aspect("equal")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)


def default_output(run_dir: Path, n: int, class_index: int | None) -> Path:
    suffix = f"-class{class_index}" if class_index is not None else ""
    return run_dir / "samples" / f"sample-{n}{suffix}.png"


def sample(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `ganzoo run`")],
    n: Annotated[int, typer.Option("--n", min=1, metavar="N", help="Number of samples")] = 64,
    class_index: Annotated[Optional[int], typer.Option("--class", metavar="K", help="Only this class (conditional models)")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="PNG to write "
                                                "(default RUN_DIR/samples/sample-N.png)")] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the noise")] = 0,
    checkpoint: Annotated[str, typer.Option(metavar="WHICH", help="'last', 'best' or a step number")] = "last",
    view: Annotated[Optional[str], typer.Option(metavar="NAME", help="A named sample view of the plugin "
                                                "(e.g. traversal)")] = None,
    generator: Annotated[str, typer.Option("--generator", metavar="raw|ema", help="The trained generator (raw, the "
                                           "default everywhere) or its EMA")] = "raw",
) -> Path:
    """Render a grid of samples (or a named sample view) from a saved run."""
    from ..train.checkpoint import load_networks, pick_generator

    plugin, nets, ema = load_networks(run_dir, int(checkpoint) if checkpoint.isdigit() else checkpoint)
    nets = pick_generator(nets, ema, generator, run_dir)
    if view is not None:
        path = render_view_file(plugin, nets, view, out or run_dir / "samples" / f"view_{view}.png", seed)
        typer.echo(f"wrote {path}")
        return path
    path = render_samples(plugin, nets, out or default_output(run_dir, n, class_index), n, class_index, seed)
    typer.echo(f"wrote {path}")
    return path
