# Sourced by scripts/run and scripts/test: install what parkhost needs from
# Debian packages (when missing) and build it. Not meant to be run directly.
#
# PARKHOST_BUILD (default build/) and PARKHOST_BUILD_TYPE (default
# RelWithDebInfo) choose the build; extra CMake flags go in PARKHOST_CMAKE_FLAGS.

PARKHOST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARKHOST_BUILD=${PARKHOST_BUILD:-$PARKHOST_ROOT/build}

# Libraries (libsodium: Argon2id password hashes), llhttp's sources, and the Lua tools (busted, luacheck) and
# modules (luasocket for the specs' HTTP client, cjson) the project uses; wrk
# loads the server in the specs of several workers; the sqlite3 command lets
# specs and benchmarks count what a test site stored behind its back.
PARKHOST_PACKAGES=(pkg-config liblua5.4-dev libuv1-dev libsqlite3-dev libsodium-dev node-llhttp
                   lua5.4 lua-busted lua-socket lua-cjson lua-expat lua-check clang-format wrk sqlite3)

parkhost_install_deps() {
    local missing=() p
    for p in "${PARKHOST_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "parkhost needs these Debian packages; install them as root, then run this again:" >&2
        echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# parkhost_build DIR [cmake flags...]
parkhost_build() {
    local dir=$1
    shift
    cmake -S "$PARKHOST_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="${PARKHOST_BUILD_TYPE:-RelWithDebInfo}" \
        ${PARKHOST_CMAKE_FLAGS:-} "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)"
}
