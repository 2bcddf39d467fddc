# Shared by build-ephemeral and build-tiny-image: Debian packages fetched
# with `apt-get download` into a cache keyed by package version, unpacked
# once with `dpkg-deb -x`.

CACHE=${MAAS_IMAGE_CACHE:-/var/tmp/maas-images/cache}
FIXED_MTIME=${SOURCE_DATE_EPOCH:-1700000000}

log() { echo "build: $*" >&2; }
die() { echo "build: error: $*" >&2; exit 1; }

# apt's package lists, fetched once if this machine has none yet.
apt_ready() {
    [ -n "${APT_READY:-}" ] && return 0
    # (Not `| grep -q`: under pipefail, grep's early exit fails apt-cache.)
    local policy
    policy=$(apt-cache policy linux-image-amd64 2>/dev/null || true)
    if ! echo "$policy" | grep 'Candidate: [0-9]' >/dev/null; then
        log "apt-get update (no package lists yet)"
        apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
    fi
    APT_READY=1
}

# The candidate version of a package (apt's view).
pkg_version() {
    apt_ready
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}'
}

# Unpack package $1 (at its candidate version) and print the directory.
pkg_tree() {
    local pkg=$1 ver safe deb tree
    ver=$(pkg_version "$pkg")
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "package $pkg is unknown to apt (run apt-get update)"
    safe=${ver//:/%3a}
    mkdir -p "$CACHE/debs" "$CACHE/trees"
    # One build at a time fills the cache (this runs in a $(...) subshell:
    # the lock is held until it returns).
    exec 9>"$CACHE/.lock"
    flock 9
    deb=$(ls "$CACHE/debs/${pkg}_${safe}_"*.deb 2>/dev/null | head -1)
    if [ -z "$deb" ]; then
        log "downloading $pkg $ver"
        (cd "$CACHE/debs" && apt-get download -q=2 "$pkg=$ver" >/dev/null 2>&1) || die "apt-get download $pkg=$ver failed"
        deb=$(ls "$CACHE/debs/${pkg}_${safe}_"*.deb 2>/dev/null | head -1)
        [ -n "$deb" ] || die "no .deb for $pkg after download"
    fi
    tree="$CACHE/trees/${pkg}_${safe}"
    if [ ! -d "$tree" ]; then
        rm -rf "$tree.tmp"; mkdir -p "$tree.tmp"
        dpkg-deb -x "$deb" "$tree.tmp" || die "dpkg-deb -x $deb failed"
        mv "$tree.tmp" "$tree"
    fi
    echo "$tree"
}

# The Debian kernel package linux-image-amd64 points at.
kernel_pkg() {
    apt_ready
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

# Copy an ELF binary and the shared libraries `ldd` lists into tree $2 at
# path $3 (libraries keep their absolute paths). Libraries this host lacks
# come from unpacked package trees: list them in LIB_TREES (space
# separated); a library found in none of them is an error.
copy_elf() {
    local bin=$1 dest=$2 at=$3 out lib rel t lpath=
    install -D -m 0755 "$bin" "$dest$at"
    for t in ${LIB_TREES:-}; do lpath="$lpath:$t/usr/lib/x86_64-linux-gnu:$t/lib/x86_64-linux-gnu"; done
    out=$(LD_LIBRARY_PATH=${lpath#:} ldd "$bin" 2>/dev/null || true)
    if echo "$out" | grep -q 'not found'; then
        die "$bin needs libraries found nowhere: $(echo "$out" | grep 'not found' | tr -s ' \t' ' ')"
    fi
    for lib in $(echo "$out" | grep -o '/[^ ]*'); do
        rel=$lib
        for t in ${LIB_TREES:-}; do
            case $lib in "$t"/*) rel=${lib#"$t"} ;; esac
        done
        [ -e "$dest$rel" ] && continue
        install -D -m 0755 "$(readlink -f "$lib")" "$dest$rel"
    done
}

# Modules in dependency order: $1 = modules dir (lib/modules/KVER), the
# rest = module names. Prints paths relative to $1, deps first.
module_order() {
    local kdir=$1; shift
    python3 - "$kdir" "$@" <<'PY'
import os, re, subprocess, sys
kdir, wanted = sys.argv[1], sys.argv[2:]
paths = {}
for d, _, files in os.walk(os.path.join(kdir, "kernel")):
    for f in files:
        m = re.match(r"(.+)\.ko(\.xz|\.zst|\.gz)?$", f)
        if m:
            paths[m.group(1).replace("-", "_")] = os.path.relpath(os.path.join(d, f), kdir)
def deps(name):
    p = os.path.join(kdir, paths[name])
    data = open(p, "rb").read()
    if p.endswith(".xz"):
        data = subprocess.run(["xz", "-dc", p], capture_output=True).stdout
    m = re.search(rb"\x00depends=([^\x00]*)\x00", b"\x00" + data)
    return [x.decode().replace("-", "_") for x in (m.group(1).split(b",") if m else []) if x]
done, order = set(), []
def visit(n, stack=()):
    if n in done or n not in paths or n in stack:
        return
    for d in deps(n):
        visit(d, stack + (n,))
    done.add(n); order.append(paths[n])
for w in wanted:
    visit(w.replace("-", "_"))
print("\n".join(order))
PY
}
