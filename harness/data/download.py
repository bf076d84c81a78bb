"""Fetching a dataset archive over HTTP(S), verified by md5 before it is put in place.

The file is streamed to a temporary name in the target folder and only renamed to its real name
once the checksum matches, so an interrupted or tampered download never looks like a good file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..contract.errors import DataError


def md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
