#!/usr/bin/env bash
# Debian packages talkingface uses at run time: espeak-ng (speech synthesis through its C API),
# and the EGL/Mesa libraries for offscreen rendering without a GPU. With --test, also what only the
# tests use: Chromium, in which the web page is tested.
set -euo pipefail
packages=(espeak-ng libespeak-ng1 libegl1 libegl-mesa0 libgl1-mesa-dri)
[ "${1:-}" = "--test" ] && packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
