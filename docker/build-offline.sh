#!/usr/bin/env bash
# Build the EAS image (the repository's Dockerfile, unchanged) where Docker Hub and PyTorch's index
# cannot be reached but Debian's mirror and PyPI can: an air-gapped build host, or a development VM.
#
#   docker/build-offline.sh [TAG]          # default tag localhost/eas:local
#
# What it does instead of pulling:
#   - the Python base: Debian bookworm's own Python 3.11 (debootstrap --variant=minbase), imported
#     as localhost/eas-python:3.11-bookworm and passed as PYTHON_IMAGE (the official
#     python:3.11.x-slim-bookworm is Debian bookworm with Python 3.11 too; the Dockerfile needs only
#     `python -m venv` and apt-get from it);
#   - PyTorch: a local package index holding the CPU wheel from TORCH_WHEELS (default /opt/wheels),
#     passed as TORCH_INDEX_URL;
#   - the build host's CA bundle (CA_BUNDLE) and a pip.conf naming it are mounted into the build's
#     RUN steps only, for hosts that reach PyPI through a TLS-inspecting proxy; nothing of either is
#     in the image.
# Needs root, buildah and debootstrap (Debian: apt-get install buildah podman debootstrap).
# docker/check-image.sh then runs the image's checks.
set -euo pipefail

TAG="${1:-localhost/eas:local}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${EAS_IMAGE_WORK:-/tmp/eas-image}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE="localhost/eas-python:3.11-bookworm"
TORCH_WHEELS="${TORCH_WHEELS:-/opt/wheels}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

for tool in buildah podman debootstrap; do
  command -v "$tool" >/dev/null || { echo "build-offline: $tool is not installed (apt-get install $tool)" >&2; exit 2; }
done
torch_pin="$(python3 -c 'import tomllib,sys; deps=tomllib.load(open(sys.argv[1],"rb"))["project"]["dependencies"]; print(next(d for d in deps if d.startswith("torch==")).split("==")[1])' "$ROOT/pyproject.toml")"
wheel="$(find "$TORCH_WHEELS" -maxdepth 1 -name "torch-${torch_pin}+cpu-cp311-*.whl" -print -quit 2>/dev/null || true)"
[ -n "$wheel" ] || { echo "build-offline: no torch-${torch_pin}+cpu-cp311 wheel in TORCH_WHEELS=$TORCH_WHEELS" >&2; exit 2; }
[ -f "$CA_BUNDLE" ] || { echo "build-offline: CA_BUNDLE=$CA_BUNDLE is not a file" >&2; exit 2; }

mkdir -p "$WORK"
if ! podman image exists "$BASE"; then
  echo "== base image $BASE from $MIRROR"
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$WORK/rootfs" "$MIRROR"
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
  tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["python3"]' - "$BASE"
  rm -rf "$WORK/rootfs"
fi

echo "== local PyTorch index: $(basename "$wheel") and the wheels it depends on"
rm -rf "$WORK/torch-index" "$WORK/torch-wheels" && mkdir -p "$WORK/torch-wheels"
python3 -m pip download --quiet --only-binary=:all: --dest "$WORK/torch-wheels" "$wheel"
# A PEP 503 simple index (one folder and index.html per normalised project name), as PyTorch's is.
python3 - "$WORK/torch-wheels" "$WORK/torch-index" <<'PY'
import re, shutil, sys
from pathlib import Path
wheels, index = Path(sys.argv[1]), Path(sys.argv[2])
projects: dict[str, list[str]] = {}
for wheel in sorted(wheels.glob("*.whl")):
    name = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
    (index / name).mkdir(parents=True, exist_ok=True)
    shutil.copy2(wheel, index / name / wheel.name)
    projects.setdefault(name, []).append(wheel.name)
for name, files in projects.items():
    links = "".join(f'<a href="{f}">{f}</a><br>' for f in files)
    (index / name / "index.html").write_text(f"<!DOCTYPE html><html><body>{links}</body></html>")
links = "".join(f'<a href="{n}/">{n}</a><br>' for n in sorted(projects))
(index / "index.html").write_text(f"<!DOCTYPE html><html><body>{links}</body></html>")
PY
printf '[global]\ncert = /etc/ssl/certs/build-host-ca.crt\n' > "$WORK/pip.conf"

echo "== buildah bud -t $TAG"
buildah bud --isolation chroot --network host --layers \
  --build-arg PYTHON_IMAGE="$BASE" \
  --build-arg TORCH_INDEX_URL="file:///torch-index" \
  -v "$WORK/torch-index:/torch-index:ro" \
  -v "$WORK/pip.conf:/etc/pip.conf:ro" \
  -v "$CA_BUNDLE:/etc/ssl/certs/build-host-ca.crt:ro" \
  -t "$TAG" -f "$ROOT/Dockerfile" "$ROOT"
podman image inspect "$TAG" --format 'built {{.RepoTags}} {{.Size}} bytes, user {{.Config.User}}, cmd {{.Config.Cmd}}'
