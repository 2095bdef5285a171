#!/usr/bin/env bash
# Installs every Debian 12 package gomodprobe needs to build, test and run (idempotent).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcurl4-openssl-dev libc-ares-dev libssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libcivetweb-dev nlohmann-json3-dev libcli11-dev libminizip-dev libisal-dev
  libarchive-dev
  libgtest-dev libgmock-dev
  clang-format clang-tidy
  clang llvm libclang-rt-14-dev
  libcrypt-dev zlib1g-dev
  nginx-light dnsmasq-base openssl prometheus python3 python3-yaml tinyproxy-bin chromium fcgiwrap
  prometheus-blackbox-exporter iproute2
  golang-go golang-golang-x-mod-dev
  systemd dpkg-dev file python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
