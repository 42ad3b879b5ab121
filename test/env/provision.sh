#!/usr/bin/env bash
# Provisions the real Kubernetes binaries the test clusters need, once per machine, into a cache keyed by version:
#   etcd (Debian's etcd-server), kube-apiserver + kube-controller-manager 1.20.2 (built from Debian's source
#   package with Debian's golang-go), and Debian's prometheus (promtool for the alert rule and dashboard tests, the
#   server for the end-to-end tests). Helm and kubectl come from npm packages (see test/env/binaries.ts).
# Idempotent and safe to interrupt: every step writes into a temporary folder and renames it into place at the end.
# Environment overrides (skip provisioning): ZONESYNC_ETCD, ZONESYNC_KUBE_APISERVER, ZONESYNC_KUBE_CONTROLLER_MANAGER,
# ZONESYNC_PROMTOOL and ZONESYNC_PROMETHEUS.
set -euo pipefail

KUBE_VERSION=1.20.2
# Bumped whenever the build recipe changes, so machines with an older cached build rebuild (keep in sync with
# KUBE_BUILD in test/env/binaries.ts).
KUBE_BUILD=2
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/zonesync"
kube_dir="$cache_root/kubernetes-$KUBE_VERSION-b$KUBE_BUILD"
step() { printf '[provision] %s\n' "$*" >&2; }
# One provisioning at a time per machine: parallel test runs wait here instead of building twice.
mkdir -p "$cache_root"
exec 9>"$cache_root/provision.lock"
if ! flock -n 9; then
  printf '[provision] another provisioning is running; waiting for it\n' >&2
  flock 9
fi
fail() { printf '[provision] error: %s\n' "$*" >&2; exit 1; }

have_overrides() {
  [[ -n "${ZONESYNC_ETCD:-}" && -x "${ZONESYNC_ETCD}" ]] &&
    [[ -n "${ZONESYNC_KUBE_APISERVER:-}" && -x "${ZONESYNC_KUBE_APISERVER}" ]] &&
    [[ -n "${ZONESYNC_KUBE_CONTROLLER_MANAGER:-}" && -x "${ZONESYNC_KUBE_CONTROLLER_MANAGER}" ]]
}

# promtool and the prometheus server: both come with Debian's prometheus package.
have_prometheus() {
  { [[ -n "${ZONESYNC_PROMTOOL:-}" && -x "${ZONESYNC_PROMTOOL}" ]] || command -v promtool >/dev/null 2>&1; } &&
    { [[ -n "${ZONESYNC_PROMETHEUS:-}" && -x "${ZONESYNC_PROMETHEUS}" ]] || command -v prometheus >/dev/null 2>&1; }
}
need_prometheus=1
if have_prometheus; then need_prometheus=0; fi

if have_overrides && (( ! need_prometheus )); then
  step "using binaries from ZONESYNC_ETCD / ZONESYNC_KUBE_APISERVER / ZONESYNC_KUBE_CONTROLLER_MANAGER"
  exit 0
fi

need_etcd=1; need_kube=1
if [[ -n "${ZONESYNC_ETCD:-}" && -x "${ZONESYNC_ETCD}" ]] || command -v etcd >/dev/null 2>&1; then need_etcd=0; fi
if [[ -x "$kube_dir/kube-apiserver" && -x "$kube_dir/kube-controller-manager" ]]; then need_kube=0; fi
if [[ -n "${ZONESYNC_KUBE_APISERVER:-}" && -x "${ZONESYNC_KUBE_APISERVER}" && -n "${ZONESYNC_KUBE_CONTROLLER_MANAGER:-}" && -x "${ZONESYNC_KUBE_CONTROLLER_MANAGER}" ]]; then need_kube=0; fi
if (( need_etcd == 0 && need_kube == 0 && need_prometheus == 0 )); then
  step "binaries present (etcd: $(command -v etcd || echo "$ZONESYNC_ETCD"), kubernetes: $kube_dir, promtool: $(command -v promtool || echo "$ZONESYNC_PROMTOOL"))"
  exit 0
fi

missing=()
(( need_etcd )) && missing+=("etcd")
(( need_kube )) && missing+=("kube-apiserver and kube-controller-manager $KUBE_VERSION")
(( need_prometheus )) && missing+=("promtool and prometheus")
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  fail "missing: ${missing[*]}. Provisioning builds them on Debian as root (apt-get). Either run 'npm test' as root
on Debian bookworm, or point these variables at existing binaries:
  ZONESYNC_ETCD=/path/to/etcd (etcd 3.4+)
  ZONESYNC_KUBE_APISERVER=/path/to/kube-apiserver (1.20+)
  ZONESYNC_KUBE_CONTROLLER_MANAGER=/path/to/kube-controller-manager (same version)
  ZONESYNC_PROMTOOL=/path/to/promtool, ZONESYNC_PROMETHEUS=/path/to/prometheus (Prometheus 2.42+)"
fi

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {
  if (( ! apt_updated )); then step "apt-get update"; apt-get update -qq >&2; apt_updated=1; fi
  step "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

if (( need_etcd )); then apt_install etcd-server; fi

# Open-source nginx with its stream module, and openssl: src/zonesync/nginx.test.ts checks the rendered zone-sync
# config with `nginx -t` (it fails without them). Only the binary is needed, so no web server is left running.
if [[ ! -x /usr/sbin/nginx ]]; then
  apt_install nginx-light libnginx-mod-stream openssl
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  # Without systemd the package's init script may have started it on port 80: stop it (it was not there before).
  if pgrep -x nginx >/dev/null 2>&1; then /usr/sbin/nginx -s quit >/dev/null 2>&1 || pkill -x nginx || true; fi
fi

# Debian's prometheus: promtool checks and unit-tests the chart's alert rules and the dashboard's queries
# (test/unit/alerts.test.ts, test/unit/dashboard.test.ts); the server is for tests that start it themselves, on
# loopback. Only the binaries are needed, so the service the package sets up is stopped and disabled (no Prometheus
# is left running on port 9090).
if (( need_prometheus )); then
  apt_install prometheus
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  # Without systemd the package's init script may have started it: stop it (it was not there before) by the
  # package's own binary only, and keep it from starting at boot.
  if command -v update-rc.d >/dev/null 2>&1; then update-rc.d prometheus disable >/dev/null 2>&1 || true; fi
  if [[ -x /etc/init.d/prometheus ]]; then /etc/init.d/prometheus stop >/dev/null 2>&1 || true; fi
  start-stop-daemon --stop --quiet --oknodo --retry 10 --exec /usr/bin/prometheus >/dev/null 2>&1 || true
fi

if (( ! need_kube )); then exit 0; fi

pkgs=()
command -v go >/dev/null 2>&1 || pkgs+=(golang-go)
command -v make >/dev/null 2>&1 || pkgs+=(make)
command -v rsync >/dev/null 2>&1 || pkgs+=(rsync)
command -v dpkg-source >/dev/null 2>&1 || pkgs+=(dpkg-dev)
# Kubernetes 1.20 vendors modern-go/reflect2 1.0.1, which crashes kube-apiserver (SIGSEGV on the first custom
# resource write) when built with Go >= 1.18; Debian's 1.0.2 fixes it and is API-compatible.
reflect2_src=/usr/share/gocode/src/github.com/modern-go/reflect2
[[ -f "$reflect2_src/go_above_118.go" ]] || pkgs+=(golang-github-modern-go-reflect2-dev)
(( ${#pkgs[@]} )) && apt_install "${pkgs[@]}"

mkdir -p "$cache_root"
work="$cache_root/build-kubernetes-$KUBE_VERSION"
src_dir="$work/src"
mkdir -p "$work/apt/lists/partial" "$work/apt/sources" "$work/download"

if ! ls "$work/download"/kubernetes_*.orig.tar.* >/dev/null 2>&1 || ! ls "$work/download"/kubernetes_*.debian.tar.* >/dev/null 2>&1; then
  # Our own apt source list and state, so the machine's apt configuration is left alone.
  cat >"$work/apt/sources/zonesync-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/sources" -o "Dir::State::Lists=$work/apt/lists")
  step "fetching the Debian source index for kubernetes"
  apt-get "${apt_opts[@]}" update -qq >&2
  step "downloading Debian's kubernetes source package"
  (cd "$work/download" && apt-get "${apt_opts[@]}" source --download-only kubernetes >&2)
fi

orig=$(ls "$work/download"/kubernetes_*.orig.tar.* | head -n1)
deb=$(ls "$work/download"/kubernetes_*.debian.tar.* | head -n1)
if [[ ! -f "$src_dir/.unpacked" ]]; then
  step "unpacking $(basename "$orig")"
  rm -rf "$src_dir"; mkdir -p "$src_dir"
  tar -xf "$orig" -C "$src_dir" --strip-components=1
  tar -xf "$deb" -C "$src_dir"
  touch "$src_dir/.unpacked"
fi

if [[ ! -f "$src_dir/vendor/github.com/modern-go/reflect2/go_above_118.go" ]]; then
  step "replacing the vendored modern-go/reflect2 1.0.1 with Debian's 1.0.2 (Go >= 1.18 fix)"
  rm -rf "$src_dir/vendor/github.com/modern-go/reflect2"
  mkdir -p "$src_dir/vendor/github.com/modern-go/reflect2"
  find "$reflect2_src" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
    -exec cp {} "$src_dir/vendor/github.com/modern-go/reflect2/" \;
fi
mkdir -p "$src_dir/.go/src/k8s.io"
ln -sfn "$src_dir" "$src_dir/.go/src/k8s.io/kubernetes"
step "building kube-apiserver and kube-controller-manager (about 8 minutes on 2 cores, once per machine)"
started=$(date +%s)
(
  cd "$src_dir/.go/src/k8s.io/kubernetes"
  export GOPATH="$src_dir/.go" CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=vendor GO111MODULE=on GOCACHE="$work/gocache"
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >&2
)
out=$(find "$src_dir/_output" -type f -name kube-apiserver -perm -u+x | head -n1)
[[ -n "$out" ]] || fail "the build finished but kube-apiserver was not found under $src_dir/_output"
bin_dir=$(dirname "$out")
tmp="$kube_dir.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
cp "$bin_dir/kube-apiserver" "$bin_dir/kube-controller-manager" "$tmp/"
rm -rf "$kube_dir"; mv "$tmp" "$kube_dir"
step "built in $(( $(date +%s) - started )) s into $kube_dir"
rm -rf "$work"
