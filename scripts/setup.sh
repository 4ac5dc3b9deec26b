#!/usr/bin/env bash
# Installs every Debian package gatelab needs (only what is missing), then configures and builds.
# Idempotent: with everything present it only runs an incremental build.
#
#   scripts/setup.sh            install + configure + build (build/, RelWithDebInfo)
#   scripts/setup.sh --deps     install packages only
#
# Environment: GATELAB_BUILD_DIR (default build), GATELAB_BUILD_TYPE (default RelWithDebInfo),
# GATELAB_CMAKE_ARGS (extra configure arguments), GATELAB_JOBS (default: number of cores).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

# One package per line; what each is for.
packages=(
  g++              # C++20 compiler
  cmake            # build system (>= 3.25)
  ninja-build      # fast incremental builds
  ccache           # compiler cache: cheap rebuilds in CI
  pkg-config       # finds RE2
  libyaml-cpp-dev  # config and scenario files
  nlohmann-json3-dev  # JSON reports and outputs
  libcli11-dev     # command-line parsing
  libre2-dev       # linear-time regular expressions for routes (no ReDoS)
  zlib1g-dev       # gzip trace input
  libeigen3-dev    # Markov-modulated workloads (simulator)
  libgtest-dev     # unit tests
  libgmock-dev     # unit tests (matchers)
  libbenchmark-dev # bench/
  libboost1.81-dev # Asio and Beast: the live proxy (gateway/proxy)
  libhiredis-dev   # Redis client for distributed rate limits (store: redis)
  redis-server     # Redis for the distributed rate-limit tests and benchmark (started per test)
  libssl-dev       # OpenSSL 3: TLS in the proxy, JWT signature checks in the core (EVP)
  python3-jwt      # PyJWT: makes the JWT test fixtures (tests/gateway/core/auth/make_tokens.py)
  python3-cryptography  # keys for those fixtures
  qt6-base-dev     # Qt6 Widgets/Network/Test: the dashboard (gui/); without Qt it is skipped
  qt6-charts-dev   # Qt Charts: the dashboard's time charts
  libqt6opengl6-dev  # Qt6OpenGL CMake package, which Qt6Charts requires (Debian does not pull it in)
  libgl-dev        # OpenGL headers Qt6Gui's CMake package looks for
  qt6-qpa-plugins  # the offscreen platform plugin: screenshots and GUI tests without a display
  fonts-dejavu-core  # a font for text in headless screenshots
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd=(sudo)
    else
      echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#packages[@]} packages present"
fi

[[ "${1:-}" == "--deps" ]] && exit 0

# ccache: paths relative to the checkout, so a fresh clone elsewhere (as CI makes) still hits.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$here}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

build_dir="${GATELAB_BUILD_DIR:-build}"
build_type="${GATELAB_BUILD_TYPE:-RelWithDebInfo}"
jobs="${GATELAB_JOBS:-$(nproc)}"
# shellcheck disable=SC2206
extra=(${GATELAB_CMAKE_ARGS:-})

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "${extra[@]}"
elif ((${#extra[@]} > 0)); then
  cmake "$build_dir" "${extra[@]}" >/dev/null
fi
cmake --build "$build_dir" -j "$jobs"
echo "setup: built in $build_dir ($build_type)"
