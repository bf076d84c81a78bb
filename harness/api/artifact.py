"""Exported generators: one safetensors file that rebuilds a trained generator wherever its plugin is installed.

Written by ``ganzoo export RUN --out FILE`` (``Generator.save``), read by ``ganzoo.load(FILE)``. The file
is plain safetensors — weights only, no pickle, so loading one can never run code — with these
metadata fields (all strings)::

    format: "ganzoo-generator"   version: "1"     model: plugin name     generator: "raw" | "ema"
    networks: JSON list of the networks stored (every network but the discriminators)
    config: the run's resolved RunConfig (JSON)    data_info: the DataInfo the plugin was built with (JSON)
    step: iterations trained    source: the run directory's name    plugin: {distribution, target} (JSON)
    ganzoo_version    content_sha256: sha256 over every other field and every tensor (name, dtype, shape, bytes)

Tensors are named ``<network>.<state_dict key>`` (parameters and buffers, e.g. BatchNorm statistics —
for an EMA generator, the standing statistics its samples use). ``content_sha256`` is checked on
every load: a file changed after export is refused, as is any safetensors file without this header.
The sha256 of the whole file is printed at export; pass it as ``ganzoo.load(FILE, sha256=...)`` to
check a downloaded copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..contract import registry
from ..contract.config import RunConfig
from ..contract.gan_plugin import GANPlugin, Networks
from ..contract.errors import ArtifactError, RegistryError
from ..contract.model_spec import DataInfo
from ..metrics.protocol import file_sha256

FORMAT = "ganzoo-generator"
VERSION = 1


def content_sha256(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    fields = {key: value for key, value in metadata.items() if key != "content_sha256"}
    digest.update(json.dumps(fields, sort_keys=True).encode())
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"\0{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def stored_networks(plugin: GANPlugin, nets: Networks) -> list[str]:
    """What an artifact keeps: every network but the discriminators (generators, and e.g. CycleGAN's exemplars)."""
    return [name for name in nets if name not in plugin.discriminators]


def write_artifact(path: Path, plugin: GANPlugin, nets: Networks, *, run: RunConfig, which: str, step: int | None,
                   source: str) -> dict[str, str]:
    """Write the artifact atomically; returns its metadata (with ``file_sha256`` added)."""
    from safetensors.torch import save_file

    from importlib.metadata import PackageNotFoundError, version

    names = stored_networks(plugin, nets)
    tensors: dict[str, torch.Tensor] = {}
    for name in names:
        if "." in name:
            raise ArtifactError(f"network name {name!r} contains a dot; artifacts name tensors <network>.<key>")
        for key, value in nets[name].state_dict().items():
            if not isinstance(value, torch.Tensor):
                raise ArtifactError(f"network {name!r} has non-tensor state {key!r}; it cannot be exported")
            tensors[f"{name}.{key}"] = value.detach().cpu().contiguous().clone()
    try:
        ganzoo_version = version("ganzoo")
    except PackageNotFoundError:  # a bare checkout
        ganzoo_version = "unknown"
    entry = registry.get(run.model)
    metadata = {"format": FORMAT, "version": str(VERSION), "model": run.model, "generator": which,
                "networks": json.dumps(names), "config": run.model_dump_json(),
                "data_info": plugin.data.model_dump_json(), "step": str(step if step is not None else ""),
                "source": source, "ganzoo_version": ganzoo_version,
                "plugin": json.dumps({"distribution": entry.source.distribution, "target": entry.source.target})}
    metadata["content_sha256"] = content_sha256(metadata, tensors)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {**metadata, "file_sha256": file_sha256(path)}


def read_metadata(path: Path) -> dict[str, str]:
    """The artifact's header, checked to be ours and of a version this ganzoo reads."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"no exported generator at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except Exception as error:  # noqa: BLE001 - any parse failure means: not a safetensors file we can read
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ArtifactError(f"{path} is not a ganzoo generator artifact (not a readable safetensors file: "
                            f"{first}); export one with `ganzoo export RUN --out FILE`") from None
    if metadata.get("format") != FORMAT:
        raise ArtifactError(f"{path} is a safetensors file but not a ganzoo generator artifact (no "
                            f"'format: {FORMAT}' in its metadata); export one with `ganzoo export RUN --out FILE`")
    version = metadata.get("version", "")
    if not version.isdigit() or int(version) > VERSION:
        raise ArtifactError(f"{path} has artifact format {version!r}, newer than the {VERSION} this ganzoo reads; "
                            "upgrade ganzoo to load it")
    return metadata


def read_artifact(path: Path, *, sha256: str | None = None,
                  device: torch.device | str = "cpu") -> tuple[GANPlugin, Networks, dict[str, str], RunConfig]:
    """(plugin, stored networks in eval mode on ``device``, metadata, run config) of a verified artifact."""
    from safetensors.torch import load_file

    path = Path(path)
    if sha256 is not None:
        actual = file_sha256(path) if path.is_file() else None
        if actual is not None and actual != sha256.lower():
            raise ArtifactError(f"{path} has sha256 {actual}, not the {sha256} you expected: it is another file, "
                                "or it was changed or damaged on the way")
    metadata = read_metadata(path)
    tensors = load_file(str(path))
    if content_sha256(metadata, tensors) != metadata.get("content_sha256"):
        raise ArtifactError(f"{path}: its content does not match the sha256 recorded at export; the file was "
                            "changed after `ganzoo export` wrote it (or damaged). Export it again from the run")
    try:
        run = RunConfig.model_validate_json(metadata["config"])
        data_info = DataInfo.model_validate_json(metadata["data_info"])
        names = json.loads(metadata["networks"])
    except (KeyError, ValueError) as error:
        raise ArtifactError(f"{path}: its metadata is incomplete or invalid ({str(error).splitlines()[0]})") from None
    try:
        entry = registry.get(run.model)
    except RegistryError as error:
        origin = json.loads(metadata.get("plugin", "{}")).get("distribution", "its plugin's distribution")
        raise ArtifactError(f"{path} holds a {run.model!r} generator, and that model cannot be loaded here "
                            f"(install {origin}): {error}") from None
    plugin = entry.cls(entry.cls.Config.model_validate(run.params), data_info, run.train.tricks)
    built = plugin.build()
    missing = [name for name in names if name not in built]
    if missing:
        raise ArtifactError(f"{path} holds networks {missing} that the installed {run.model!r} plugin does not build "
                            f"(it builds {sorted(built)}): was it exported by another version of the plugin?")
    nets = Networks({name: built[name].to(device) for name in names})
    for name, net in nets.items():
        prefix = f"{name}."
        state = {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}
        try:
            net.load_state_dict(state)
        except RuntimeError as error:
            raise ArtifactError(f"{path}: network {name!r} does not match the installed {run.model!r} plugin's "
                                f"architecture: {str(error).splitlines()[0]}") from None
        net.eval()
    return plugin, nets, metadata, run


def describe(metadata: dict[str, Any]) -> str:
    return (f"{metadata.get('model')} ({metadata.get('generator')} generator, step {metadata.get('step') or '?'}, "
            f"from {metadata.get('source') or '?'})")
