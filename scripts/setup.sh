#!/usr/bin/env bash
# Build (once) and reuse the devicephys environment: Python >= 3.12 venv with
# DOLFINx, MEEP + MPB built from Debian sources, and the pinned pip packages.
#
# The venv lives outside the checkout, in $DEVICEPHYS_CACHE (default
# ~/.cache/devicephys), under a name keyed on the native pins; .venv in the
# checkout is a link to it.  Pip pins are re-synced whenever env/pins.txt
# changes.  A second run finishes in seconds.
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

editable_install() {
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
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
ln -sfn "$VENV" "$ROOT/.venv"
if ! "$VENV/bin/python" -I -c "import devicephys, os, sys; sys.exit(os.path.dirname(os.path.dirname(devicephys.__file__)) != sys.argv[1])" "$ROOT" 2>/dev/null; then
    step "install devicephys (editable)" editable_install
fi
echo "devicephys set-up: ready (.venv -> $VENV)"
