"""Where datasets and decoded caches live, how to tell the user when something is missing, and
fetching a missing dataset archive.

Data: ``--data-dir`` (``DataRequest.data_dir``), else ``$GANZOO_DATA``, else ``<cache root>/data``.
Cache root: ``$GANZOO_CACHE``, else ``$XDG_CACHE_HOME/ganzoo``, else ``~/.cache/ganzoo``.
Every "not found" message quotes the folder *and* which of these rules chose it, so a user
whose files are elsewhere knows which knob to turn.

A download (:func:`download`) is streamed to a temporary name in the target folder and only renamed to
its real name once its md5 matches, so an interrupted or tampered download never looks like a good file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..contract.errors import DataError


@dataclass(frozen=True)
class DataRoot:
    """A data folder and the rule that chose it (quoted in error messages)."""

    path: Path
    origin: str  # "--data-dir", "GANZOO_DATA" or "the default per-user folder"

    def hint(self) -> str:
        """Where we looked and the ways to point ganzoo elsewhere."""
        return (f"data folder {self.path} (chosen by {self.origin}; change it with --data-dir PATH "
                "or the GANZOO_DATA environment variable)")


def cache_root() -> Path:
    """The per-user cache folder; its ``data/`` and ``decoded/`` subfolders hold datasets and tensors."""
    if os.environ.get("GANZOO_CACHE"):
        return Path(os.environ["GANZOO_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ganzoo"


def decoded_cache_dir() -> Path:
    """Where decoded datasets are stored as uint8 tensors (see ``harness.data.decoded_cache``)."""
    return cache_root() / "decoded"


def data_root(data_dir: Path | str | None) -> DataRoot:
    """The folder datasets are read from (and downloaded to)."""
    if data_dir is not None:
        return DataRoot(Path(data_dir).expanduser().resolve(), "--data-dir")
    if os.environ.get("GANZOO_DATA"):
        return DataRoot(Path(os.environ["GANZOO_DATA"]).expanduser().resolve(), "GANZOO_DATA")
    return DataRoot((cache_root() / "data").resolve(), "the default per-user folder")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in chunks (sha256: the identity ganzoo records for weights, data
    and artifacts; md5: the checksums dataset mirrors publish)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def md5(path: Path) -> str:
    return file_digest(path, "md5")


def download(urls: Sequence[str], target: Path, checksum: str, *, dataset: str) -> Path:
    """Download the first URL that works to ``target``; DataError listing every failure otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                shutil.copyfileobj(response, out, 1 << 20)
            actual = md5(Path(tmp))
            if actual != checksum:
                raise DataError(f"md5 {actual}, expected {checksum}")
            os.replace(tmp, target)
            return target
        except Exception as error:  # noqa: BLE001 - try the next URL, report all at the end
            errors.append(f"{url}: {error}")
        finally:
            Path(tmp).unlink(missing_ok=True)
    raise DataError(f"dataset {dataset!r}: could not download {target.name} ({'; '.join(errors)}). On a machine "
                    f"without network, fetch {urls[0]} elsewhere and put it at {target}.")
