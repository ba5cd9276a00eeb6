#!/usr/bin/env bash
# Install the Debian/Ubuntu packages a target needs, when they are missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
# Usage: scripts/system-packages.sh PACKAGE:CHECK_PATH ...
set -euo pipefail
missing=()
for spec in "$@"; do
    package=${spec%%:*}
    check=${spec#*:}
    [ -e "$check" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-liberation >/dev/null
