#!/usr/bin/env bash
# Build (once) and reuse the devicephys environment: Python >= 3.12 venv with
# DOLFINx, MEEP + MPB built from Debian sources, and the pinned pip packages.
#
# The heavy venv lives outside the checkout, in $DEVICEPHYS_CACHE (default
# ~/.cache/devicephys), under a name keyed on the native pins, and is shared by
# every checkout.  Each checkout gets its own light venv in .venv, layered on
# the shared one: it holds only this checkout's devicephys (editable), so two
# clones never run each other's code.  Pip pins are re-synced whenever
# env/pins.txt changes.  A second run finishes in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PINS="$ROOT/env/pins.txt"
CACHE="${DEVICEPHYS_CACHE:-$HOME/.cache/devicephys}"
LOGDIR="$CACHE/logs"
mkdir -p "$LOGDIR"

step_no=0
step() {  # step "description" command...
    local name="$1"; shift
    step_no=$((step_no + 1))
    local log="$LOGDIR/step${step_no}-$(echo "$name" | tr -c 'a-zA-Z0-9' '_' | cut -c1-40).log"
    local t0=$SECONDS
    printf '[setup %d] %s ... ' "$step_no" "$name"
    if "$@" >"$log" 2>&1; then
        printf 'done (%ds)\n' $((SECONDS - t0))
    else
        printf 'FAILED\n'
        echo "setup step '$name' failed; its log is $log (last lines below)" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
}

pins() { sed -n "s/^$1: //p" "$PINS"; }

find_python() {
    local want; want="$(pins python)"
    for cand in "python$want" "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/$want"*/bin/python$want)"; do
        for exe in $cand; do
            if command -v "$exe" >/dev/null 2>&1 && "$exe" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
                command -v "$exe"; return 0
            fi
        done
    done
    echo "no Python >= $want found: install Python $want (e.g. 'pyenv install $want') and rerun" >&2
    return 1
}

# One set-up at a time per cache (parallel `make` calls wait here).
exec 9>"$CACHE/setup.lock"
if ! flock -n 9; then echo "devicephys set-up: another set-up is running; waiting for it ..."; flock 9; fi

PY="$(find_python)"
NATIVE_KEY="$( (pins python; "$PY" -c 'import sys; print(sys.version)'; pins debian-source; pins debian) | sha256sum | cut -c1-16)"
PIP_KEY="$(pins pip | sha256sum | cut -c1-16)"
VENV="$CACHE/venv-$NATIVE_KEY"

apt_missing() {
    local missing=()
    for p in $(pins debian) $(pins debian-runtime); do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    echo "${missing[@]:-}"
}

install_debian() {
    local missing="$1" sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
}

fetch_sources() {  # Debian trixie source packages, with a private apt config
    local src="$CACHE/src" aptd="$CACHE/apt"
    mkdir -p "$src" "$aptd/sources" "$aptd/lists/partial" "$aptd/cache/archives/partial"
    cat >"$aptd/sources/trixie-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$aptd/sources"
                -o "Dir::State::Lists=$aptd/lists" -o "Dir::Cache=$aptd/cache")
    apt-get "${opts[@]}" update -q
    local specs=()
    while read -r name ver; do specs+=("$name=$ver"); done < <(pins debian-source)
    (cd "$src" && apt-get "${opts[@]}" source --download-only "${specs[@]}")
}

unpack() {  # unpack NAME -> prints dir
    local name="$1" ver="$2" src="$CACHE/src" build="$CACHE/build"
    local upstream="${ver%-*}"
    rm -rf "$build/$name-$upstream"; mkdir -p "$build"
    tar -xf "$src/${name}_${upstream}.orig.tar."* -C "$build"
}

build_mpb() {
    local ver; ver="$(pins debian-source | awk '$1=="mpb"{print $2}')"
    unpack mpb "$ver"
    cd "$CACHE/build/mpb-${ver%-*}"
    autoreconf -fi
    ./configure --prefix="$VENV" --enable-shared --with-pic --with-hermitian-eps \
        --without-libctl --without-mpi --enable-maintainer-mode
    make -j"$(nproc)" && make install
}

build_meep() {
    local ver; ver="$(pins debian-source | awk '$1=="meep"{print $2}')"
    unpack meep "$ver"
    cd "$CACHE/build/meep-${ver%-*}"
    autoreconf -fi
    PATH="$VENV/bin:$PATH" ./configure --prefix="$VENV" --with-libctl=/usr/share/libctl \
        --without-scheme --without-mpi --with-python --enable-shared --with-pic \
        --with-gcc-arch=no --enable-maintainer-mode PYTHON="$VENV/bin/python" \
        CPPFLAGS="-I$VENV/include -I/usr/include/hdf5/serial" \
        LDFLAGS="-L$VENV/lib -Wl,-rpath,$VENV/lib -L/usr/lib/x86_64-linux-gnu/hdf5/serial"
    make -j"$(nproc)" && make install
}

pip_sync() {
    local req="$VENV/pins-requirements.txt"
    pins pip >"$req"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r "$req"
}

check_imports() {
    "$VENV/bin/python" - <<'PYCHK'
import dolfinx_solver  # noqa: F401  (loads MPI before dolfinx/petsc4py)
import dolfinx, meep, gmsh, xarray, pydantic
print("dolfinx", dolfinx.__version__, "meep", meep.__version__)
PYCHK
}

light_venv() {  # .venv: this checkout's own venv on top of the shared one
    local light="$ROOT/.venv" shared_site own_site f
    if [ -L "$light" ]; then rm -f "$light"; else rm -rf "$light"; fi  # a link: the layout of older set-ups
    "$PY" -m venv --without-pip "$light"
    shared_site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
    own_site="$("$light/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
    cat >"$own_site/_devicephys_shared_env.py" <<HOOK
"""The shared devicephys environment's packages, after this checkout's own (written by scripts/setup.sh)."""
import os
import site
import sys

SHARED = "$shared_site"
if SHARED not in sys.path:
    sys.path.append(SHARED)
    for _name in sorted(os.listdir(SHARED)):
        if _name.endswith(".pth") and not _name.startswith("__editable__"):  # never another checkout's devicephys
            site.addpackage(SHARED, _name, set(sys.path))
HOOK
    echo "import _devicephys_shared_env" >"$own_site/_devicephys_shared_env.pth"
    for f in "$VENV"/bin/*; do  # the shared tools (mpirun, gmsh, pytest ...), run from this checkout's venv
        local name; name="$(basename "$f")"
        case "$name" in python*|activate*|pip*|devicephys) continue ;; esac
        [ -e "$light/bin/$name" ] && continue
        if head -c 128 "$f" | head -n 1 | grep -q '^#!.*python'; then
            printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$light/bin/python" "$f" >"$light/bin/$name"
            chmod +x "$light/bin/$name"
        else
            ln -s "$f" "$light/bin/$name"
        fi
    done
    for f in "$VENV"/lib/*; do  # shared libraries found through sys.prefix (libmpi for mpi4py, ...)
        case "$(basename "$f")" in python3*) continue ;; esac
        [ -e "$light/lib/$(basename "$f")" ] || ln -s "$f" "$light/lib/"
    done
    for f in "$VENV"/share "$VENV"/include/*; do
        [ -e "$f" ] && [ ! -e "$light/${f#"$VENV"/}" ] && ln -s "$f" "$light/${f#"$VENV"/}"
    done
    "$light/bin/python" -m pip install -q --no-deps --no-build-isolation -C editable_mode=compat -e "$ROOT"
    echo "$VENV" >"$light/.shared-env"
}

light_venv_ok() {  # .venv is this checkout's, on the current shared venv, and imports this checkout's devicephys
    [ ! -L "$ROOT/.venv" ] && [ "$(cat "$ROOT/.venv/.shared-env" 2>/dev/null)" = "$VENV" ] &&
        "$ROOT/.venv/bin/python" -c "import devicephys, os, sys; sys.exit(os.path.dirname(os.path.dirname(os.path.realpath(devicephys.__file__))) != os.path.realpath(sys.argv[1]))" "$ROOT" 2>/dev/null
}

echo "devicephys set-up: Python $PY, environment $VENV"
missing="$(apt_missing)"
if [ -n "$missing" ]; then step "install Debian packages: $missing" install_debian "$missing"; fi

if [ ! -f "$VENV/.native-complete" ]; then
    rm -rf "$VENV"
    step "create virtual environment" "$PY" -m venv "$VENV"
    step "install pinned pip packages" pip_sync
    echo "$PIP_KEY" >"$VENV/.pip-key"
    step "download MEEP and MPB sources (Debian trixie)" fetch_sources
    step "build MPB" build_mpb
    step "build MEEP with Python bindings (~3 min)" build_meep
    step "check that DOLFINx and MEEP import together" check_imports
    touch "$VENV/.native-complete"
fi
if [ "$(cat "$VENV/.pip-key" 2>/dev/null)" != "$PIP_KEY" ]; then
    step "sync pinned pip packages" pip_sync
    echo "$PIP_KEY" >"$VENV/.pip-key"
fi
if ! light_venv_ok; then
    step "create this checkout's .venv on the shared environment" light_venv
fi
echo "devicephys set-up: ready (.venv of $ROOT, on $VENV)"
