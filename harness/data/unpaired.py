"""Two unaligned image domains as one dataset (``DataKind.unpaired_images``), for CycleGAN-style models.

:class:`UnpairedSource` holds one :class:`ImageTensorSource` per domain, each with its own seeded
order (domain B's seed is derived from the run's), so batches of A and B are drawn independently:
nothing pairs the i-th image of A with the i-th of B. A training batch carries domain A in
``Batch.real`` and domain B in ``Batch.real_b``; labels, when the domains have them, are kept for
evaluation (``reference``/``reference_b``) and are never put into training batches.

``unpaired:DIR_A,DIR_B`` opens two image folders (any layout ``folder:`` reads: flat, or one
subfolder per class), converts them to RGB, resizes the shorter side to the run's resolution
(default 64) and centre-crops, like ``folder:``; ``unpaired:ROOT`` is short for
``unpaired:ROOT/trainA,ROOT/trainB`` (the layout of the CycleGAN datasets, e.g. horse2zebra).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..contract.gan_plugin import Batch
from ..contract.model_spec import DataInfo, DataKind
from .base import DataSource
from ..contract.errors import DataError
from .tensor_source import ImageTensorSource

if TYPE_CHECKING:  # pragma: no cover
    from .base import DataRequest

#: domain B's order is seeded with the run's seed plus this, so A and B are shuffled independently
B_SEED_OFFSET = 1_000_003


class UnpairedSource(DataSource):
    """Batches of (A, B) from two independent image sources of the same image shape.

    ``label_classifier`` names the classifier that can read both domains' labels (``"mnist-cnn"``
    for the MNIST pairs), so evaluation knows when label preservation applies; None for folders.
    """

    def __init__(self, name: str, a: ImageTensorSource, b: ImageTensorSource, seed: int, *,
                 provenance: dict[str, Any] | None = None, label_classifier: str | None = None) -> None:
        super().__init__(seed)
        self.label_classifier = label_classifier
        if a.info.shape != b.info.shape:
            raise DataError(f"dataset {name!r}: domains A and B must have the same image shape, got A "
                            f"{a.info.shape} and B {b.info.shape}")
        self.a, self.b = a, b
        classes = a.info.num_classes if a.info.num_classes == b.info.num_classes else None
        self.info = DataInfo(name=name, kind=DataKind.unpaired_images, shape=a.info.shape, num_classes=classes,
                             value_range=a.info.value_range)
        self.provenance = dict(provenance or {})

    def next_batch(self, batch_size: int) -> Batch:
        return Batch(real=self.a.next_batch(batch_size).real, real_b=self.b.next_batch(batch_size).real)

    def next_shard(self, batch_size: int, rank: int, world: int) -> Batch:
        return Batch(real=self.a.next_shard(batch_size, rank, world).real,
                     real_b=self.b.next_shard(batch_size, rank, world).real)

    def reference(self, n: int, seed: int) -> Batch:
        """``n`` domain-A images (with their labels, if any), independent of the training order."""
        return self.a.reference(n, seed)

    def reference_b(self, n: int, seed: int) -> Batch:
        """``n`` domain-B images (with their labels, if any), in ``Batch.real``."""
        return self.b.reference(n, seed)

    def reference_pair(self, n: int, seed: int) -> Batch:
        """``n`` images of each domain in one batch (``real``: A, ``real_b``: B, ``labels``: A's)."""
        a, b = self.a.reference(n, seed), self.b.reference(n, seed)
        return Batch(real=a.real, labels=a.labels, real_b=b.real)

    def state_dict(self) -> dict[str, Any]:
        return {"a": self.a.state_dict(), "b": self.b.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if set(state) != {"a", "b"}:
            raise DataError(f"dataset {self.info.name!r}: the checkpoint's data-order state has {sorted(state)}, "
                            "not the two domains 'a' and 'b'; it was written for another dataset")
        self.a.load_state_dict(state["a"])
        self.b.load_state_dict(state["b"])

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "num_classes": self.info.num_classes,
                "value_range": list(self.info.value_range or ()),
                "domain_a": self.a.describe(), "domain_b": self.b.describe(), **self.provenance}


def parse_folders(name: str) -> tuple[Path, Path]:
    """The two folders of ``unpaired:DIR_A,DIR_B`` (or ``unpaired:ROOT`` with ROOT/trainA, ROOT/trainB)."""
    raw = name.split(":", 1)[1] if ":" in name else ""
    parts = [part.strip() for part in raw.split(",")] if raw else []
    if len(parts) == 1 and parts[0]:
        root = Path(parts[0]).expanduser().resolve()
        if (root / "trainA").is_dir() and (root / "trainB").is_dir():
            return root / "trainA", root / "trainB"
        raise DataError(f"dataset {name!r}: give two folders, unpaired:DIR_A,DIR_B, or a folder with trainA/ and "
                        f"trainB/ inside (the CycleGAN datasets' layout); {root} has no trainA/ and trainB/")
    if len(parts) != 2 or not all(parts):
        raise DataError(f"dataset {name!r}: give the two domains' folders separated by one comma, e.g. "
                        "unpaired:~/data/horses,~/data/zebras (folder names must not contain commas)")
    return Path(parts[0]).expanduser().resolve(), Path(parts[1]).expanduser().resolve()


def _open_domain(name: str, path: Path, domain: str, size: int, seed: int) -> ImageTensorSource:
    from .folder import decode_listing, image_listing

    listing = image_listing(name, path, domain)
    cached = decode_listing(listing, size, dataset=name, prefix="folder")
    data = cached.data
    return ImageTensorSource(
        f"{name}[{domain}]", data.images, data.labels, seed, classes=data.classes,
        provenance={"source": f"image folder ({listing.layout})", "path": str(path),
                    "files": f"{len(listing.files)} images under {path}", "resolution": size,
                    "transform": "RGB, shorter side bilinear-resized, centre crop",
                    "cache_key": cached.key, "cache_hit": cached.hit})


def open_unpaired(name: str, request: DataRequest) -> UnpairedSource:
    """Opener for ``unpaired:DIR_A,DIR_B``."""
    from .folder import DEFAULT_RESOLUTION
    from .resize import check_resolution

    folder_a, folder_b = parse_folders(name)
    size = check_resolution(name, request.resolution, DEFAULT_RESOLUTION)
    a = _open_domain(name, folder_a, "A", size, request.seed)
    b = _open_domain(name, folder_b, "B", size, request.seed + B_SEED_OFFSET)
    return UnpairedSource(name, a, b, request.seed, provenance={
        "source": "two image folders, unpaired", "domain_a_path": str(folder_a), "domain_b_path": str(folder_b),
        "resolution": size})
