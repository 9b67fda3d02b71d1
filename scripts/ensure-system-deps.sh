#!/usr/bin/env bash
# The one place that knows the Debian packages the tests need. README's test command runs it
# first (scripts/run-tests.mjs), and so does .ci/run.
#
#   tcl            tclsh 8.6: the reference peer
#   tcl-tls        TclTLS, Tcl's TLS peer
#   openssl        `openssl s_server` / `s_client`: TLS peers, test certificates
#   nftables       nft: dropping SYNs inside test network namespaces
#   iproute2       ip: network namespaces, `lo` of the test sandbox
#   util-linux     unshare (the sandbox of scripts/with-test-names), prlimit (EMFILE tests)
#   mount          mount: the sandbox's private hosts table
#   procps         sysctl inside test network namespaces
#   haproxy        a real PROXY-protocol peer
#   socat          Unix-socket and TCP peers
#   netcat-openbsd nc: a plain TCP/Unix peer
#   python3        a third, independent peer for some tests
#
# As root it installs whatever is missing (apt-get). As any other user it installs nothing: when
# something is missing it prints the one `sudo apt-get install` line to run and exits 1 at once.
# An ordinary user runs the tests inside an unprivileged user namespace (scripts/with-test-names):
# when the kernel forbids those, it prints the sysctl to set and exits 1. Root needs no namespace
# permission and is only needed for installing.
set -euo pipefail
for d in /usr/local/sbin /usr/sbin /sbin; do
  case ":$PATH:" in *":$d:"*) ;; *) PATH="$PATH:$d" ;; esac
done
export PATH
# `command -v` alone also finds a file that is not executable.
have() { local p; p=$(command -v "$1" 2>/dev/null) && [ -f "$p" ] && [ -x "$p" ]; }

# package -> is it usable? (what the tests run, not only what dpkg says)
usable() {
  case "$1" in
    tcl) have tclsh ;;
    tcl-tls) have tclsh && echo 'exit [catch {package require tls}]' | tclsh >/dev/null 2>&1 ;;
    openssl) have openssl ;;
    nftables) have nft ;;
    iproute2) have ip ;;
    util-linux) have unshare && have prlimit ;;
    mount) have mount ;;
    procps) have sysctl ;;
    haproxy) have haproxy ;;
    socat) have socat ;;
    netcat-openbsd) have nc && nc -h 2>&1 | grep -qi openbsd ;;
    python3) have python3 ;;
    *) return 1 ;;
  esac
}
PACKAGES=(tcl tcl-tls openssl nftables iproute2 util-linux mount procps haproxy socat netcat-openbsd python3)

missing=()
for p in "${PACKAGES[@]}"; do usable "$p" || missing+=("$p"); done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-system-deps: the tests need Debian packages that are missing: ${missing[*]}" >&2
    echo "  install them once (root needed only for this), then run the command again:" >&2
    echo "    sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  if ! have apt-get; then
    echo "ensure-system-deps: missing ${missing[*]} and no apt-get to install them (Debian or Ubuntu expected)" >&2
    exit 1
  fi
  echo "ensure-system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  still=()
  for p in "${missing[@]}"; do usable "$p" || still+=("$p"); done
  if [ "${#still[@]}" -gt 0 ]; then
    echo "ensure-system-deps: installed, yet still not usable: ${still[*]}" >&2
    exit 1
  fi
fi

# Root runs the sandbox without a user namespace: nothing more to check.
if [ "$(id -u)" = 0 ]; then exit 0; fi

# An ordinary user: the sandbox needs an unprivileged user namespace with a mount and a network
# namespace, in which it mounts a tmpfs and brings lo up. Try exactly that.
if probe=$(unshare --user --map-root-user --mount --net sh -c 'mount -t tmpfs none /run && ip link set lo up' 2>&1); then
  exit 0
fi
read_sysctl() { cat "/proc/sys/$1" 2>/dev/null || true; }
fix=""
if [ "$(read_sysctl kernel/unprivileged_userns_clone)" = 0 ]; then
  fix="kernel.unprivileged_userns_clone=1"
elif [ "$(read_sysctl user/max_user_namespaces)" = 0 ]; then
  fix="user.max_user_namespaces=15000"
elif [ "$(read_sysctl kernel/apparmor_restrict_unprivileged_userns)" = 1 ]; then
  fix="kernel.apparmor_restrict_unprivileged_userns=0"
elif [[ "$probe" == *"No space left on device"* ]]; then
  # The limit of user namespaces is used up (or 0) for this user namespace or one above it.
  fix="user.max_user_namespaces=15000"
fi
echo "ensure-system-deps: the tests run in an unprivileged user namespace (unshare --user --map-root-user --mount --net), and this kernel refuses it:" >&2
echo "  ${probe:-unshare failed}" >&2
if [ -n "$fix" ]; then
  echo "  allow it (root needed once), then run the command again:" >&2
  echo "    sudo sysctl -w $fix" >&2
  echo "  (to keep it after a reboot: echo $fix | sudo tee /etc/sysctl.d/60-sockchan-userns.conf)" >&2
else
  echo "  no known sysctl forbids it here (a container or a security module may); run the tests as root instead" >&2
fi
exit 1
