"""Samples from any generator, scored under ganzoo's protocols (like torch-fidelity's ``--input1``).

``read_samples`` turns what another codebase wrote into ganzoo's sample format for a dataset:

- a **folder of images** (searched recursively, sorted by path): PNG/JPEG/… at the dataset's size,
  grey for 1-channel data (an RGB file whose three channels are equal counts as grey), RGB for
  3-channel data; 8-bit values 0…255;
- an **.npy / .npz** array (in an .npz: the only array, or ``samples``/``images``/``points``/``x``/
  ``arr_0``, or ``key=``; an optional ``labels`` array gives the classes of conditional samples);
- a **.pt** file of a tensor, or of a dict of tensors like an .npz (read with ``weights_only=True``);
- a tensor or array already in memory.

Images may be ``(N, C, H, W)``, ``(N, H, W, C)`` or, for 1-channel data, ``(N, H, W)``. Their values
are read on a stated scale: uint8 as 0…255, floats as −1…1 (ganzoo's and tanh's), unless
``value_range`` says ``0,1`` or ``0,255``; a value outside the scale is an error, never clipped.
2-D points are ``(N, 2)`` floats. Whatever does not fit raises :class:`SamplesError` naming the shape
or range found and the one expected.

``score_samples`` then applies exactly what a run applies to its own samples: the mixture protocol
for ``ring``/``grid`` (``scoring.mixture_metrics``) and ``images.evaluate_images`` for image data,
against the same reference images a run with the same seed scores against.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..contract.model_spec import DataInfo, DataKind
from ..data.base import DataSource
from ..data.folder import EXTENSIONS, is_image
from ..data.mixtures import MixtureSource
from ..contract.errors import MetricError, SamplesError

ARRAY_KEYS = ("samples", "images", "points", "x", "arr_0")
RANGES = {"-1,1": (-1.0, 1.0), "0,1": (0.0, 1.0), "0,255": (0.0, 255.0)}
TOLERANCE = 1e-4  # float rounding at the ends of the scale


@dataclass(frozen=True)
class Samples:
    """Samples in ganzoo's format: images (N, C, H, W) float32 in [-1, 1], or points (N, 2)."""

    values: Tensor
    labels: Tensor | None
    origin: str  # where they came from, for the protocol

    def __len__(self) -> int:
        return len(self.values)


def _describe(info: DataInfo) -> str:
    if info.kind == DataKind.points2d:
        return f"{info.name} samples are 2-D points: an array of shape (N, 2)"
    c, h, w = info.shape
    shapes = f"(N, {c}, {h}, {w}) or (N, {h}, {w}, {c})" + (f" or (N, {h}, {w})" if c == 1 else "")
    return f"{info.name} samples are {c}×{h}×{w} images: an array of shape {shapes}"


def _size_hint(shape: tuple[int, ...], info: DataInfo) -> str:
    """When only the (square) size differs: how to score them as a run at that ``train.resolution`` does."""
    sizes = [s for s in shape[1:] if s not in info.shape[:1]]
    if len(shape) in (3, 4) and len(set(sizes)) == 1 and sizes[0] != info.shape[-1]:
        return (f". To score {sizes[0]}×{sizes[0]} samples as a run with train.resolution={sizes[0]} does "
                f"(reference images resized to it), pass resolution={sizes[0]} (--resolution {sizes[0]})")
    return ""


def parse_range(value_range: str | tuple[float, float] | None) -> tuple[float, float] | None:
    if value_range is None or isinstance(value_range, tuple):
        return value_range
    key = value_range.replace(" ", "")
    if key not in RANGES:
        raise SamplesError(f"unknown value range {value_range!r}; choose one of {', '.join(RANGES)}")
    return RANGES[key]


def _to_images(array: Tensor, info: DataInfo, value_range: tuple[float, float] | None, origin: str) -> Tensor:
    c, h, w = info.shape
    if array.ndim == 3 and c == 1 and tuple(array.shape[1:]) == (h, w):
        array = array[:, None]
    elif array.ndim == 4 and tuple(array.shape[1:]) == (c, h, w):
        pass
    elif array.ndim == 4 and tuple(array.shape[1:]) == (h, w, c):
        array = array.permute(0, 3, 1, 2)
    else:
        raise SamplesError(f"{origin} has shape {tuple(array.shape)}; {_describe(info)}{_size_hint(array.shape, info)}")
    if array.dtype == torch.bool or array.is_complex():
        raise SamplesError(f"{origin} holds {array.dtype} values; images are uint8 (0…255) or floats")
    low, high = value_range or ((0.0, 255.0) if array.dtype == torch.uint8 else (-1.0, 1.0))
    values = array.double()
    if not torch.isfinite(values).all():
        raise SamplesError(f"{origin} holds NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    if lo < low - TOLERANCE * (high - low) or hi > high + TOLERANCE * (high - low):
        raise SamplesError(f"{origin} has values in [{lo:.4g}, {hi:.4g}], outside the {low:g}…{high:g} they are read "
                           f"on (uint8: 0…255, floats: −1…1, ganzoo's and tanh's range); if that is not their "
                           "scale, give it: value_range / --range 0,1 or 0,255. Values are never clipped")
    if (low, high) == (0.0, 255.0):  # float32 arithmetic exactly as the data sources convert uint8 images
        scaled = array.to(torch.float32).div(127.5).sub(1.0)
    elif (low, high) == (0.0, 1.0):
        scaled = array.to(torch.float32).mul(2.0).sub(1.0)
    else:
        scaled = array.to(torch.float32)
    return scaled.clamp(-1, 1).contiguous()


def _to_points(array: Tensor, info: DataInfo, origin: str) -> Tensor:
    if array.ndim != 2 or array.shape[1] != 2:
        raise SamplesError(f"{origin} has shape {tuple(array.shape)}; {_describe(info)}")
    if not array.is_floating_point():
        raise SamplesError(f"{origin} holds {array.dtype} values; points are floats")
    if not torch.isfinite(array).all():
        raise SamplesError(f"{origin} holds NaN or infinite values")
    return array.float().contiguous()


def _labels(labels: Any, n: int, info: DataInfo, origin: str) -> Tensor | None:
    if labels is None:
        return None
    labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, Tensor) else labels)
    classes = info.num_classes
    if labels.ndim != 1 or len(labels) != n or labels.is_floating_point():
        raise SamplesError(f"{origin}: labels must be {n} integers (one class per sample), got shape "
                           f"{tuple(labels.shape)} of {labels.dtype}")
    if not classes:
        raise SamplesError(f"{origin} has labels, but {info.name} has no classes")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise SamplesError(f"{origin}: labels must be in 0..{classes - 1} for {info.name}, got "
                           f"{int(labels.min())}..{int(labels.max())}")
    return labels.long()


def _pick(arrays: dict[str, Any], key: str | None, origin: str) -> tuple[Any, Any]:
    """(samples, labels or None) from a mapping of arrays (an .npz, or a .pt dict)."""
    if key is not None:
        if key not in arrays:
            raise SamplesError(f"{origin} has no array {key!r}; it has {', '.join(sorted(arrays)) or 'none'}")
        return arrays[key], arrays.get("labels")
    candidates = [k for k in arrays if k != "labels"]
    if len(candidates) == 1:
        return arrays[candidates[0]], arrays.get("labels")
    for name in ARRAY_KEYS:
        if name in arrays:
            return arrays[name], arrays.get("labels")
    raise SamplesError(f"{origin} holds several arrays ({', '.join(sorted(arrays))}); name the samples with "
                       f"key= / --key, or call them one of {', '.join(ARRAY_KEYS)}")


def _read_image(path: Path, info: DataInfo) -> np.ndarray:
    from PIL import Image

    c, h, w = info.shape
    try:
        with Image.open(path) as image:
            image.load()
            if image.size != (w, h):
                hint = _size_hint((1, c, *image.size[::-1]), info)
                raise SamplesError(f"{path} is {image.size[0]}×{image.size[1]} pixels; {_describe(info)}"
                                   + (hint or ". Resize the images first"))
            if c == 3:
                return np.asarray(image.convert("RGB")).transpose(2, 0, 1)
            if image.mode in ("L", "1", "P", "LA") or image.mode.startswith("I"):
                return np.asarray(image.convert("L"))[None]
            rgb = np.asarray(image.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as error:
        raise SamplesError(f"cannot read image {path} ({error})") from None
    if not ((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()):
        raise SamplesError(f"{path} is a colour image; {info.name} samples are grey (1 channel)")
    return rgb[None, :, :, 0]


def _read_folder(folder: Path, info: DataInfo) -> Tensor:
    if info.kind != DataKind.images:
        raise SamplesError(f"{folder} is a folder of images, but {_describe(info)} (.npy, .npz or .pt)")
    files = sorted(p for p in folder.rglob("*") if is_image(p))
    if not files:
        raise SamplesError(f"no images under {folder} (looked for files ending in {', '.join(EXTENSIONS)})")
    return torch.from_numpy(np.stack([_read_image(path, info) for path in files]))


def read_samples(samples: Any, info: DataInfo, *, value_range: str | tuple[float, float] | None = None,
                 key: str | None = None, labels: Any = None) -> Samples:
    """Samples in ganzoo's format for data described by ``info`` (see the module docstring)."""
    scale = parse_range(value_range)
    found_labels = labels
    if isinstance(samples, (str, Path)):
        path = Path(samples).expanduser()
        origin = str(path)
        if path.is_dir():
            raw = _read_folder(path, info)
            origin = f"{path} ({len(raw)} images)"
        elif not path.is_file():
            raise SamplesError(f"no samples at {path}: give a folder of images or an .npy, .npz or .pt file")
        elif path.suffix == ".npy":
            raw = np.load(path, allow_pickle=False)
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                raw, found = _pick(dict(archive.items()), key, origin)
            found_labels = labels if labels is not None else found
        elif path.suffix in (".pt", ".pth"):
            try:
                loaded = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as error:  # noqa: BLE001 - pickled code, a zip error, …: not a tensor file we read
                first = (str(error).strip().splitlines() or [type(error).__name__])[0]
                raise SamplesError(f"{path} is not a tensor file ganzoo can read safely ({first})") from None
            if isinstance(loaded, dict):
                loaded, found = _pick(loaded, key, origin)
                found_labels = labels if labels is not None else found
            raw = loaded
        else:
            raise SamplesError(f"{path}: unknown kind of file {path.suffix!r}; give a folder of images or an .npy, "
                               ".npz or .pt file")
    else:
        raw, origin = samples, f"samples of type {type(samples).__name__}"
    try:
        array = raw if isinstance(raw, Tensor) else torch.from_numpy(np.asarray(raw))
    except TypeError as error:
        raise SamplesError(f"{origin} is not an array of numbers ({error})") from None
    array = array.detach().cpu()
    if info.kind == DataKind.points2d:
        values = _to_points(array, info, origin)
    elif info.kind == DataKind.images:
        values = _to_images(array, info, scale, origin)
    else:
        raise SamplesError(f"{info.name} is {info.kind.value} data; only images and 2-D points can be scored")
    if len(values) == 0:
        raise SamplesError(f"{origin} holds no samples")
    return Samples(values, _labels(found_labels, len(values), info, origin), origin)


def image_extractor(dataset: str, extractor: str | None = None, options: dict[str, Any] | None = None) -> str:
    """The feature network for image samples of ``dataset``: the one asked for, the dataset's default
    (mnist-cnn for MNIST-like data), else Inception when its weights are here (CIFAR-10's Inception-FID);
    a MetricError that says what is missing otherwise. Cheap: call it before decoding any data."""
    from .images import default_plan

    plan = default_plan(dataset, False, extractor)
    if plan.extractor is not None:
        return plan.extractor
    from ..metrics.extractors import find_inception_weights

    try:
        find_inception_weights((options or {}).get("weights"))
    except MetricError as missing:
        raise MetricError(f"{plan.reason}. {missing}") from None
    return "inception"


def score_samples(samples: Samples, source: DataSource, *, seed: int, metrics: list[str] | None = None,
                  extractor: str | None = None, data_dir: Path | None = None, device: torch.device | None = None,
                  extractor_options: dict[str, Any] | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """(metric values, the protocol of each) of ``samples`` against ``source``; ``seed`` draws the reference
    images (a run uses its ``train.seed + EVAL_SEED_OFFSET``)."""
    from .images import choose_plan, evaluate_images
    from .plugin_scoring import mixture_metrics

    device = device or torch.device("cpu")
    if isinstance(source, MixtureSource):
        if metrics or extractor:
            raise MetricError(f"{source.info.name} is points2d data: only its mixture metrics apply; "
                              "drop --metrics/--extractor")
        return mixture_metrics(samples.values, source, seed)
    extractor = image_extractor(source.info.name, extractor, extractor_options)
    plan = choose_plan(source.info.name, samples.labels is not None, extractor, metrics)
    return evaluate_images(samples.values, samples.labels, source, plan, data_dir=data_dir, device=device, seed=seed,
                           extractor_options=extractor_options)
