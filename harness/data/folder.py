"""Any folder of images as a dataset: ``folder:PATH``.

Two layouts, told apart by where the images are:
- class folders (torchvision ``ImageFolder``): ``PATH/<class>/**/<image>``; classes sorted by
  name give the labels 0..K-1;
- flat: images directly in ``PATH``; no labels.
Every image is converted to RGB, its shorter side resized to the run's resolution (default 64)
and the centre cropped. Decoding happens once; the result is cached (``harness.data.decoded_cache``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from ..contract.errors import DataError
from .decoded_cache import Cached, Decoded, fingerprint, load_or_build
from .resize import check_resolution, load_rgb
from .splits import DataWarning
from .tensor_source import ImageTensorSource

if TYPE_CHECKING:  # pragma: no cover
    from .base import DataRequest

EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")
DEFAULT_RESOLUTION = 64


@dataclass(frozen=True)
class Listing:
    """The images of a folder, in a fixed order, and their labels if it has class folders."""

    root: Path
    files: list[Path]
    labels: list[int] | None
    classes: list[str] | None

    @property
    def layout(self) -> str:
        return "flat" if self.classes is None else "class-folders"


def is_image(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS and path.is_file() and not path.name.startswith(".")


def scan(root: Path) -> Listing:
    """List the images under ``root``: class folders if any subfolder holds images, else flat."""
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    per_class = {d.name: sorted(f for f in d.rglob("*") if is_image(f)) for d in subdirs}
    per_class = {name: files for name, files in per_class.items() if files}
    loose = sorted(f for f in root.iterdir() if is_image(f))
    if not per_class:
        return Listing(root, loose, None, None)
    if loose:
        warnings.warn(f"{root} has class subfolders, so the {len(loose)} image(s) directly inside it are ignored",
                      DataWarning, stacklevel=2)
    classes = sorted(per_class)
    files = [f for name in classes for f in per_class[name]]
    labels = [index for index, name in enumerate(classes) for _ in per_class[name]]
    return Listing(root, files, labels, classes)


def decode(files: list[Path], size: int, dataset: str) -> Tensor:
    """Decode, resize and crop every file into one uint8 tensor (N, 3, size, size)."""
    out = np.empty((len(files), size, size, 3), dtype=np.uint8)
    for index, path in enumerate(files):
        try:
            out[index] = load_rgb(path, size)
        except (OSError, ValueError, SyntaxError) as error:  # PIL raises all three for bad files
            raise DataError(f"dataset {dataset!r}: cannot read image {path} ({error}); delete or replace "
                            "that file and run again") from error
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def decode_listing(listing: Listing, size: int, *, dataset: str, prefix: str) -> Cached:
    """The decoded listing, from the cache when the same files were decoded at this size before."""
    fields = {"kind": prefix, "root": str(listing.root), "layout": listing.layout, "resolution": size,
              "classes": listing.classes, "files": fingerprint(listing.files)}

    def build() -> Decoded:
        labels = None if listing.labels is None else torch.tensor(listing.labels, dtype=torch.int64)
        return Decoded(decode(listing.files, size, dataset), labels, listing.classes,
                       {"layout": listing.layout, "num_files": len(listing.files)})

    return load_or_build(prefix, fields, build)


def missing_images_message(dataset: str, path: Path) -> str:
    return (f"dataset {dataset!r}: no images found in {path} (looked for files ending in "
            f"{', '.join(EXTENSIONS)}, directly inside it or in one subfolder per class). Put the images "
            "there, or give a folder that has them.")


def image_listing(name: str, path: Path, domain: str | None = None):
    """The images of ``path``, or a DataError naming the folder (and the domain, for unpaired data)."""
    what = f"domain {domain} folder" if domain else "folder"
    if not path.is_dir():
        raise DataError(f"dataset {name!r}: {what} {path} does not exist or is not a folder. Give an existing "
                        f"folder with images ({', '.join(EXTENSIONS)}) directly inside or in one subfolder "
                        "per class.")
    listing = scan(path)
    if not listing.files:
        raise DataError((f"domain {domain}: " if domain else "") + missing_images_message(name, path))
    return listing


def open_folder(name: str, request: DataRequest) -> ImageTensorSource:
    """Opener for ``folder:PATH`` (PATH relative to the working directory, ``~`` expanded)."""
    raw = name.split(":", 1)[1] if ":" in name else ""
    if not raw:
        raise DataError(f"dataset {name!r}: give the folder after the colon, e.g. folder:~/data/celeba")
    path = Path(raw).expanduser().resolve()
    listing = image_listing(name, path)
    size = check_resolution(name, request.resolution, DEFAULT_RESOLUTION)
    cached = decode_listing(listing, size, dataset=name, prefix="folder")
    data = cached.data
    return ImageTensorSource(
        name, data.images, data.labels, request.seed, classes=data.classes,
        provenance={"source": f"image folder ({listing.layout})", "path": str(path),
                    "files": f"{len(listing.files)} images under {path}", "classes": data.classes,
                    "resolution": size, "transform": "RGB, shorter side bilinear-resized, centre crop",
                    "cache_key": cached.key, "cache_file": str(cached.path), "cache_hit": cached.hit})
