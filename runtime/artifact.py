"""The ``.tsr`` artifact: one zip container holding a compiled model.

Members: ``manifest.json`` (format name and version, target, the SHA-256 of every other
member), ``plan.json`` (the execution plan), ``weights.npz`` (constants) and ``code/*``
(compiled CPU code: each llvm kernel's LLVM IR ``NAME.ll`` and its host object code
``NAME.o``, see ``runtime/cpu/artifact_code.py``; files without ``.o`` members still load).
Weights are stored uncompressed. A corrupt, truncated or tampered file gets an
``ArtifactError`` naming the file and what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tessera.hw.errors import TesseraError

FORMAT = "tessera-artifact"
VERSION = 1
_STORED = frozenset({"weights.npz"})  # members written without compression


class ArtifactError(TesseraError, ValueError):
    """An artifact file cannot be read: missing, corrupt, truncated or of another version."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_artifact(
    path: str | Path, plan: Mapping[str, Any], constants: Mapping[str, np.ndarray],
    code: Mapping[str, bytes] | None = None,
) -> Path:
    path = Path(path)
    weights = io.BytesIO()
    names = sorted(constants)
    arrays: dict[str, Any] = {f"c{k}": np.asarray(constants[n]) for k, n in enumerate(names)}
    np.savez(weights, **arrays)
    members: dict[str, bytes] = {
        "plan.json": json.dumps(dict(plan), sort_keys=True).encode(),
        "weights.npz": weights.getvalue(),
        "weights.json": json.dumps(names).encode(),
    }
    for name, blob in (code or {}).items():
        members[f"code/{name}"] = bytes(blob)
    manifest = {
        "format": FORMAT, "version": VERSION, "target": plan.get("target", "llvm"),
        "name": plan.get("name", "model"),
        "sha256": {name: _sha(data) for name, data in members.items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
        for name, data in members.items():
            # float weights barely deflate, and inflating them was half of a load's time
            zf.writestr(name, data, compress_type=zipfile.ZIP_STORED if name in _STORED
                        else None)
    tmp.replace(path)
    return path


def read_artifact(
    path: str | Path,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, np.ndarray], dict[str, bytes]]:
    """(manifest, plan, constants, code) of an artifact, every checksum verified."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: artifact file must exist")
    try:
        with zipfile.ZipFile(path) as zf:
            blobs = {info.filename: zf.read(info) for info in zf.infolist()}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise ArtifactError(
            f"{path}: not a readable Tessera artifact (corrupt or truncated zip container: "
            f"{err})"
        ) from None
    except Exception as err:  # noqa: BLE001 - zlib errors and the like on damaged members
        raise ArtifactError(
            f"{path}: corrupt artifact member ({type(err).__name__}: {err})"
        ) from None
    if "manifest.json" not in blobs:
        raise ArtifactError(f"{path}: artifact must contain manifest.json")
    try:
        manifest = json.loads(blobs["manifest.json"])
    except ValueError as err:
        raise ArtifactError(f"{path}: manifest.json is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path}: manifest format must be {FORMAT!r}")
    if manifest.get("version") != VERSION:
        raise ArtifactError(
            f"{path}: artifact format version must be {VERSION}, not {manifest.get('version')!r}"
        )
    sums = manifest.get("sha256", {})
    for name in ("plan.json", "weights.npz", "weights.json"):
        if name not in blobs or name not in sums:
            raise ArtifactError(f"{path}: artifact must contain {name}")
    for name, digest in sums.items():
        if name not in blobs:
            raise ArtifactError(f"{path}: member {name} listed in the manifest is missing")
        if _sha(blobs[name]) != digest:
            raise ArtifactError(f"{path}: checksum of {name} does not match the manifest")
    try:
        plan = json.loads(blobs["plan.json"])
        names = json.loads(blobs["weights.json"])
        with np.load(io.BytesIO(blobs["weights.npz"]), allow_pickle=False) as npz:
            constants = {n: npz[f"c{k}"] for k, n in enumerate(names)}
    except (ValueError, KeyError, OSError) as err:
        raise ArtifactError(f"{path}: cannot decode the plan or weights ({err})") from None
    code = {n[len("code/"):]: b for n, b in blobs.items() if n.startswith("code/")}
    return manifest, plan, constants, code


def load(path: str | Path, device: str | None = None) -> Any:
    """A runnable ``GraphModule`` from a ``.tsr`` file (no compiler needed)."""
    from tessera.runtime.executor import GraphModule

    _, plan, constants, code = read_artifact(path)
    if plan.get("target") == "vta":  # accelerator steps: run them on ``device``
        from tessera.runtime.accel_exec import retarget

        plan = retarget(plan, None if device in (None, "cpu", "llvm") else device)
    elif device not in (None, "cpu", "llvm"):
        raise ArtifactError(f"{path}: device must be 'cpu' for this artifact, not {device!r}")
    return GraphModule(plan, constants, code)
