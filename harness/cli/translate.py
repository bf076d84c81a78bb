"""``ganzoo translate RUN_DIR --input DIR [--direction a2b|b2a] [--out DIR]``: translate a folder of images.

For image-to-image models (CycleGAN): every image under ``--input`` (any depth; the extensions
``folder:`` reads) is brought to the run's input format as in training — RGB, shorter side
resized to the run's resolution and centre-cropped, converted to grey with the BT.601 luma
weights when the run's images have one channel — translated with the trained generator
(``a2b``: G_ab, ``b2a``: G_ba; the EMA generator when the run kept one) and written as a PNG at
the same relative path under ``--out`` (default ``RUN_DIR/translations/<direction>/``).

The networks come from the run's checkpoint through ``harness.train.checkpoint.load_networks``
(``weights_only=True``: a checkpoint cannot run code).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:  # pragma: no cover - torch loads when something is translated, not at `ganzoo --help`
    import torch

from ..contract.errors import TranslateError


def list_images(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursively), in a fixed order."""
    from ..data.folder import EXTENSIONS, is_image

    if not folder.is_dir():
        raise TranslateError(f"--input {folder} is not a folder; give a folder of images")
    files = sorted(p for p in folder.rglob("*") if is_image(p))
    if not files:
        raise TranslateError(f"no images under {folder} (looked for files ending in {', '.join(EXTENSIONS)})")
    return files


def load_image(path: Path, size: int, channels: int) -> torch.Tensor:
    """One file as a float tensor (channels, size, size) in [-1, 1], prepared like the training data."""
    import numpy as np
    import torch

    from ..data.resize import load_rgb

    rgb = load_rgb(path, size).astype(np.float32)  # (H, W, 3) uint8 values
    if channels == 1:
        pixels = np.rint(rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[None]  # BT.601, as PIL "L"
    elif channels == 3:
        pixels = rgb.transpose(2, 0, 1)
    else:
        raise TranslateError(f"the run's images have {channels} channels; only 1 (grey) or 3 (RGB) can be read "
                             "from image files")
    return torch.from_numpy(np.ascontiguousarray(pixels)).float().div(127.5).sub(1.0)


def save_image(image: torch.Tensor, path: Path) -> None:
    """(C, H, W) in [-1, 1] → 8-bit PNG (grey for one channel, RGB for three)."""
    import torch
    from PIL import Image

    array = image.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).cpu().numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)).save(path)


def translate_folder(plugin, nets, input_dir: Path, out_dir: Path, direction: str = "a2b",
                     batch_size: int = 64) -> list[Path]:
    """Translate every image under ``input_dir`` into ``out_dir``; returns the written files."""
    import torch

    if direction not in ("a2b", "b2a"):
        raise TranslateError(f"--direction must be a2b or b2a, got {direction!r}")
    if not callable(getattr(plugin, "translate", None)):
        raise TranslateError(f"model {plugin.spec.name!r} does not translate images (it has no translate method); "
                             "use `ganzoo sample` for generative models")
    files = list_images(input_dir)
    size, channels = plugin.data.resolution, plugin.data.channels
    device = next(nets[plugin.generators[0]].parameters()).device
    written = []
    for start in range(0, len(files), batch_size):
        chunk = files[start:start + batch_size]
        images = torch.stack([load_image(path, size, channels) for path in chunk]).to(device)
        with torch.no_grad():
            translated = plugin.translate(nets, images, direction).float().cpu()
        for path, image in zip(chunk, translated):
            target = (out_dir / path.relative_to(input_dir)).with_suffix(".png")
            save_image(image, target)
            written.append(target)
    return written


def translate(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by `ganzoo run` (a CycleGAN run)")],
    input: Annotated[Path, typer.Option("--input", metavar="DIR", help="Folder of images to translate (searched recursively)")],
    direction: Annotated[str, typer.Option("--direction", metavar="a2b|b2a", help="a2b (G_ab: domain A → B) or b2a (G_ba: B → A)")] = "a2b",
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Folder for the PNGs (default RUN_DIR/translations/DIRECTION)")] = None,
    checkpoint: Annotated[str, typer.Option(metavar="WHICH", help="'last', 'best' or a step number")] = "last",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, metavar="N", help="Images translated at once")] = 64,
    generator: Annotated[str, typer.Option("--generator", metavar="raw|ema", help="The trained generators (raw, the "
                                           "default everywhere) or their EMA")] = "raw",
) -> Path:
    """Translate a folder of images with a trained image-to-image model."""
    from ..train.checkpoint import load_networks, pick_generator

    plugin, nets, ema = load_networks(run_dir, int(checkpoint) if checkpoint.isdigit() else checkpoint)
    nets = pick_generator(nets, ema, generator, run_dir)
    target = out or Path(run_dir) / "translations" / direction
    written = translate_folder(plugin, nets, Path(input), target, direction, batch_size)
    typer.echo(f"translated {len(written)} image(s) {direction} into {target}")
    return target
