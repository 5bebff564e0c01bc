#!/usr/bin/env bash
# Install the Debian packages Continuum's scripts start: redis-server always;
# with --test also PostgreSQL, Chromium (browser tests), a JDK (the HL7 FHIR validator, Elasticsearch, HAPI FHIR),
# Maven (builds the HAPI FHIR server of scripts/hapi/ from Maven Central) and the fonts the generated OCR
# ground-truth pages are drawn with;
# with --elasticsearch the JDK for the Elasticsearch node.
set -euo pipefail
packages=(redis-server)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(postgresql chromium openjdk-17-jdk-headless maven fonts-dejavu-core fonts-liberation)
elif [[ "${1:-}" == "--elasticsearch" ]]; then
  packages+=(openjdk-17-jdk-headless)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install_services: please install these Debian packages (as root): ${missing[*]}" >&2
  exit 1
fi
echo "install_services: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the system services on install; Continuum runs its own private ones.
for svc in redis-server postgresql; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
