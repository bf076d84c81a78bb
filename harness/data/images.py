"""Registers the image datasets with the catalog; imported lazily by ``catalog._entry``.

Each opener lives in its own module (one dataset per file); this table is the one place that
names them, so ``ganzoo list-datasets`` and the CLI see them all.
"""

from __future__ import annotations

from ..spec import DataKind
from .catalog import DatasetEntry, register_dataset
from .cifar10 import open_cifar10
from .folder import open_folder
from .mnist import open_mnist
from .stacked_mnist import open_stacked_mnist

register_dataset(DatasetEntry("mnist", DataKind.images, "MNIST digits, 1×28×28 (official IDX files)", open_mnist))
register_dataset(DatasetEntry("stacked-mnist", DataKind.images,
                              "Stacked MNIST: 3 digits as RGB, 1,000 modes (VEEGAN/PacGAN)", open_stacked_mnist))
register_dataset(DatasetEntry("cifar10", DataKind.images,
                              "CIFAR-10, 3×32×32, 10 classes (official batches or class folders)", open_cifar10))
register_dataset(DatasetEntry("folder", DataKind.images,
                              "folder:PATH — any image folder (class subfolders → labels), default 64×64",
                              open_folder), prefixed=True)

from .mnist_pairs import open_mnist_thickness  # noqa: E402 - unpaired translation datasets (CycleGAN)
from .unpaired import open_unpaired  # noqa: E402

register_dataset(DatasetEntry("mnist-thickness", DataKind.unpaired_images,
                              "MNIST thin ↔ thick strokes (3×3 dilation), unpaired: disjoint halves, 1×28×28",
                              open_mnist_thickness))
register_dataset(DatasetEntry("unpaired", DataKind.unpaired_images,
                              "unpaired:DIR_A,DIR_B — two image folders as domains A and B, default 64×64",
                              open_unpaired), prefixed=True)
