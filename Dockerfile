# The EAS image. Every process of the Helm chart runs from it (helm/eas sets each one's command): the
# gateway, warm workers, NLP service, exporter, Dagster webserver, daemon and code location, and the
# standard-lane runs the K8sRunLauncher starts as Jobs.
#
#   docker build -t registry.example.com/eas/eas:0.1.0 .                                    # CPU
#   docker build --build-arg TORCH_VARIANT=cu128 -t registry.example.com/eas/eas:0.1.0-cuda .  # NLP on GPUs
#
# Two stages: the builder installs the project and its pinned dependencies into a virtual environment;
# the final image holds that environment and workspace.yaml, nothing of the build (no compiler, no
# pip cache, no source tree), and runs as an unprivileged user with a fixed UID (the chart's
# runAsUser; its root filesystem is mounted read-only).

# Both stages start from the same Python base, so that the venv's interpreter links stay valid.
# PYTHON_IMAGE names another copy of it where Docker Hub cannot be reached (a registry mirror; or the
# Debian-built base of docker/build-offline.sh, which also points TORCH_INDEX_URL at a local index).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

# cpu: PyTorch's CPU wheel (the NLP service then serves with ONNX Runtime). cu128 (or another CUDA
# variant of PyTorch's index): the GPU image for the NLP pods.
ARG TORCH_VARIANT=cpu
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/${TORCH_VARIANT}
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# A pinned pip, not the base's: the one bundled with Python 3.11 builds seqeval (an sdist whose
# setup_requires fetches setuptools_scm) without setuptools_scm's own dependencies, and fails.
ARG PIP_VERSION=26.3
RUN python -m venv /opt/venv && /opt/venv/bin/python -m pip install "pip==${PIP_VERSION}"
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# torch first, at the version pyproject.toml pins, from PyTorch's index for the chosen variant: PyPI's
# Linux wheel is the CUDA build (gigabytes the CPU image does not need). The project's own install
# then finds the pin satisfied (2.13.0+cpu matches ==2.13.0).
COPY pyproject.toml ./
RUN TORCH_PIN="$(python -c 'import tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; print(next(d for d in deps if d.startswith("torch==")))')" \
    && pip install --index-url "${TORCH_INDEX_URL}" "${TORCH_PIN}"

COPY README.md ./
COPY nlp_service ./nlp_service
COPY eas_pipelines ./eas_pipelines
COPY eas_asgi ./eas_asgi
COPY eas_sandbox ./eas_sandbox
RUN pip install . \
    && python -c "import eas_pipelines.definitions, nlp_service.cli, dagster_k8s, dagster_postgres"


FROM ${PYTHON_IMAGE}

# OpenCV (the documents agent's OCR) needs libGL and GLib at import; libgomp for the ONNX/torch kernels.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends libgl1 libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 eas \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin eas

COPY --from=builder /opt/venv /opt/venv
COPY workspace.yaml /opt/eas/workspace.yaml

# HOME, the data dir and Dagster's home are on writable volumes in the chart (/tmp is an emptyDir).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    EAS_DATA_DIR=/tmp/eas \
    DAGSTER_HOME=/opt/dagster/dagster_home
WORKDIR /opt/eas
USER 10001:10001

# gateway, NLP service, Dagster webserver, code location (gRPC), worker metrics, exporter
EXPOSE 8080 8081 3000 4000 9101 9102
# The intake API by default; the chart gives every other process its own command.
CMD ["eas", "gateway"]
