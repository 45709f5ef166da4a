#!/usr/bin/env bash
# The real software the end-to-end suites run against (backups, monitoring, rollouts, cloud-init schema, the
# report in a browser), from Debian's packages. `npm test` runs this first: as root with apt-get it installs
# what is missing; otherwise it names each missing package and the command that installs it. In CI (CI=true)
# a missing package fails the run; elsewhere the suites that need it skip with a notice.
# The one list: .ci/run uses it too.
set -euo pipefail

DEBIAN_PACKAGES=(
  postgresql restic openssh-server openssh-client cloud-init nftables dnsutils systemd python3 iproute2 strace
  prometheus prometheus-blackbox-exporter prometheus-alertmanager prometheus-node-exporter
  chromium
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${SOVEREIGN_NO_APT:-}" ]; then
    echo "Installing Debian packages the test suites run against: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages the end-to-end suites run against: ${missing[*]}" >&2
    echo "Fix: sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    if [ -n "${CI:-}" ]; then exit 1; fi
    echo "(outside CI the suites that need them skip, each with a notice)" >&2
  fi
fi

# Terraform judges every example stack through the local stand-in provider. Debian does not package it and
# no release download is reachable here, so it must already be on the machine.
if ! terraform version >/dev/null 2>&1; then
  echo "Terraform CLI not found: the stand-in provider suites need terraform >= 1.10 on PATH." >&2
  echo "Fix: install it from HashiCorp's packages or releases (https://developer.hashicorp.com/terraform/install)." >&2
  if [ -n "${CI:-}" ]; then exit 1; fi
fi
