#!/usr/bin/env bash
# Run the checks a Kubernetes deployment relies on against a built EAS image, with podman (or
# CONTAINER=docker): the user is the chart's UID 10001, no compiler is left in it, the console
# scripts run, the Dagster code location loads, and the gateway migrates its database and serves
# /healthz on a read-only root filesystem (an emptyDir-like tmpfs on /tmp, as the chart mounts).
#
#   docker/check-image.sh [IMAGE]           # default localhost/eas:local (docker/build-offline.sh)
#
# The gateway uses this host's PostgreSQL and Redis (host network): EAS_CHECK_DATABASE_URL (default
# postgresql+psycopg2://postgres@127.0.0.1:5432/eas_image_check, created if missing) and
# EAS_CHECK_REDIS_URL (default redis://127.0.0.1:6379/14). Exits non-zero at the first failed check.
set -euo pipefail

IMAGE="${1:-localhost/eas:local}"
ENGINE="${CONTAINER:-podman}"
DB_URL="${EAS_CHECK_DATABASE_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/eas_image_check}"
REDIS_URL="${EAS_CHECK_REDIS_URL:-redis://127.0.0.1:6379/14}"
PORT="${EAS_CHECK_PORT:-18080}"
NAME="eas-image-check-$$"

# ENGINE_ARGS go before `run` (e.g. "--runtime runc" where crun refuses a cgroup v1/v2 hybrid host).
read -r -a ENGINE_ARGS <<< "${ENGINE_ARGS:-}"
# The container keeps this shell's open-file limit and gets 4,096 processes: podman's defaults raise both, which a
# host that withholds CAP_SYS_RESOURCE (a sandboxed VM) refuses.
LIMITS=(--ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
engine() { "$ENGINE" "${ENGINE_ARGS[@]}" "$@"; }
run() { engine run --rm "${LIMITS[@]}" --network host --read-only --tmpfs /tmp:rw,exec "$@"; }
check() { printf '%-64s' "$1"; }
cleanup() { engine rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

check "image $IMAGE exists"
engine image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "ok (%.0f MB)\n", $1/1e6}'

check "runs as UID:GID 10001:10001 (the chart's runAsUser)"
ids="$(run "$IMAGE" sh -c 'echo "$(id -u):$(id -g)"')"
[ "$ids" = "10001:10001" ] || { echo "FAILED: $ids"; exit 1; }
echo ok

check "no compiler or pip cache left from the build"
left="$(run "$IMAGE" sh -c 'command -v gcc cc g++ || true; ls -d /root/.cache/pip /src 2>/dev/null || true')"
[ -z "$left" ] || { echo "FAILED: $left"; exit 1; }
echo ok

check "console scripts: eas, eas-nlp, dagster"
run "$IMAGE" sh -c 'eas --help >/dev/null && eas-nlp --help >/dev/null && dagster --version' | tail -1

check "torch is the CPU build pyproject.toml pins; ONNX Runtime loads"
run "$IMAGE" python -c 'import torch, onnxruntime; assert not torch.cuda.is_available(); print(torch.__version__, "ort", onnxruntime.__version__)'

check "Dagster code location (workspace.yaml) loads"
run -e DAGSTER_HOME=/tmp "$IMAGE" dagster definitions validate -w /opt/eas/workspace.yaml >/tmp/eas-check-validate.log 2>&1 \
  || { echo FAILED; tail -20 /tmp/eas-check-validate.log; exit 1; }
echo ok

db_name="${DB_URL##*/}"
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='${db_name}'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE ${db_name}"
env_args=(-e EAS_DATABASE_URL="$DB_URL" -e EAS_REDIS_URL="$REDIS_URL" -e EAS_GATEWAY_PORT="$PORT"
          -e EAS_GATEWAY_HOST=127.0.0.1 -e EAS_JWT_SECRET=image-check-only-not-a-secret-0123456789)

check "eas db upgrade (the chart's pre-upgrade hook)"
run "${env_args[@]}" "$IMAGE" eas db upgrade | tail -1

check "eas gateway serves /healthz on a read-only root filesystem"
engine run -d --name "$NAME" "${LIMITS[@]}" --network host --read-only --tmpfs /tmp:rw,exec "${env_args[@]}" "$IMAGE" >/dev/null
for _ in $(seq 1 60); do
  if body="$(curl -fsS "http://127.0.0.1:${PORT}/healthz" 2>/dev/null)"; then echo "ok $body"; exit 0; fi
  sleep 1
done
echo "FAILED: no answer in 60 s"; engine logs "$NAME" | tail -20; exit 1
