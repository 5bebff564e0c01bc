#!/usr/bin/env bash
# Set up everything Continuum needs on this machine. Idempotent; safe to rerun.
#   scripts/setup.sh          services, virtualenv, packages, default model
#   scripts/setup.sh --test   also test packages, PostgreSQL, Chromium, the small model, Elasticsearch
#   scripts/setup.sh --elasticsearch   the default set-up plus Java and the Elasticsearch distribution
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
CACHE="${CONTINUUM_CACHE_DIR:-$HOME/.cache/continuum}"
export CONTINUUM_CACHE_DIR="$CACHE"
mkdir -p "$CACHE/wheels"

scripts/install_services.sh $mode

PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade "pip==26.3"

# llama-cpp-python ships as source only: compile it once (about 7 minutes on
# 2 cores) and keep the wheel in the cache for every later install. A portable
# x86-64 build (AVX2, FMA, F16C; no AVX-512, no AMX) rather than llama.cpp's
# default "native" one: on a VM that advertises AMX the native build's AMX
# kernels crash (SIGSEGV) as soon as a prompt is decoded in a batch, and a wheel
# cached on one machine must run on the next. --no-cache-dir: pip would
# otherwise hand back a wheel it built earlier with other flags.
WHEELS="$CACHE/wheels/llama-avx2"
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
  echo "setup: building llama-cpp-python 0.3.36 (once; about 7 minutes)" >&2
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
    .venv/bin/python -m pip wheel -q --no-cache-dir --no-deps -w "$WHEELS" "llama-cpp-python==0.3.36"
fi

requirements=requirements.txt
[[ "$mode" == "--test" ]] && requirements=requirements-test.txt
.venv/bin/python -m pip install -q --find-links "$WHEELS" -r "$requirements" -c constraints.txt

.venv/bin/python scripts/fetch_model.py "${LOCAL_MODEL:-default}"
if [[ "$mode" == "--test" ]]; then
  .venv/bin/python scripts/fetch_model.py small
  .venv/bin/python scripts/fetch_model.py default
  .venv/bin/python scripts/fetch_fhir_examples.py
  .venv/bin/python scripts/fetch_fhir_validator.py
  .venv/bin/python scripts/fetch_elasticsearch.py
  .venv/bin/python -m scripts.hapi --build-only  # the HAPI FHIR server the sync tests run beside Continuum's
elif [[ "$mode" == "--elasticsearch" ]]; then
  .venv/bin/python scripts/fetch_elasticsearch.py
fi
echo "setup: done" >&2
