#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing:
#   tcl (tclsh 8.6: the reference peer), nftables (nft: dropping SYNs in test namespaces),
#   iproute2 (ip netns), util-linux (unshare, for ../shared/tools/with-test-names).
# Needs root and apt-get; without them it fails loudly rather than letting tests skip.
set -euo pipefail
missing=()
command -v tclsh >/dev/null 2>&1 || missing+=(tcl)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
echo "ensure-system-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: need root and apt-get to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
