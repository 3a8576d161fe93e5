#!/usr/bin/env bash
# The fresh-machine rehearsal: make this machine look new to the lab, then run the README's
# commands from a fresh clone, as a newcomer would.
#
# DESTRUCTIVE. It removes every podman container, image, network and volume on the machine
# (`podman system reset -f`), purges the Debian packages the lab installs (podman, netavark,
# aardvark-dns, BIND, PowerDNS, Postfix, OpenDKIM, ...), and deletes root's pip and Ansible caches.
# Run it only on a build machine, as root:
#
#   lab/fresh-machine.sh --yes [--test] [--ci] [--keep]
#
#   --test  also run `make test` in the clone (about 25 min)
#   --ci    run `.ci/run` in the clone instead (make test and the longer scenarios)
#   --keep  keep the clone (default: removed after a passing run)
#
# It clones the committed HEAD of this checkout, so commit first. The summary is printed at the end
# and kept in /var/tmp/mailauth-fresh-machine.summary.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
summary=/var/tmp/mailauth-fresh-machine.summary
yes=0 run_test=0 run_ci=0 keep=0
for arg in "$@"; do
  case $arg in
    --yes) yes=1 ;;
    --test) run_test=1 ;;
    --ci) run_ci=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 --yes [--test] [--ci] [--keep]" >&2; exit 2 ;;
  esac
done
((yes)) || { sed -n '2,16p' "$0" >&2; echo "refusing to run without --yes" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 2; }

# The lab's packages, from lab.sh itself, less what a new machine already has (and this script needs).
mapfile -t packages < <(bash -c "source <(sed -n '/^debian_packages=(/,/)/p' '$here/lab.sh'); printf '%s\n' \"\${debian_packages[@]}\"" |
  grep -vxE 'make|git|curl|ca-certificates|rsync')

say() { printf 'fresh-machine: %s\n' "$*" | tee -a "$summary" >&2; }
: >"$summary"
say "$(date -u +%FT%TZ) on $(hostname) ($(nproc) cores), HEAD $(git -C "$repo" rev-parse --short HEAD)"

if command -v podman >/dev/null; then
  podman system reset -f >/dev/null 2>&1 || true
  say "podman system reset done"
fi
# A new machine (or a reboot) has no container bridges; the reset leaves them up.
for link in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^(podman|cni-podman)[0-9]+$' || true); do
  ip link delete "$link" && say "deleted the bridge $link"
done
installed=()
for p in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && installed+=("$p")
done
if ((${#installed[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${installed[@]}" >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -qq >/dev/null
fi
say "purged: ${installed[*]:-nothing to purge}"
# /run/containers keeps netavark's address allocations (ipam.db) across a reset; a boot empties it.
rm -rf /root/.cache/pip /root/.ansible /etc/containers/networks /var/lib/containers /run/containers \
  /var/tmp/mailauth-rootfs.*
say "removed root's pip and Ansible caches and podman's storage"

work=$(mktemp -d /var/tmp/mailauth-fresh.XXXXXX)
git clone -q "$repo" "$work/mailauth"
cd "$work/mailauth"
say "cloned into $work/mailauth"

step() {
  local name=$1 log=$work/$1.log start rc=0
  shift
  start=$(date +%s)
  "$@" >"$log" 2>&1 || rc=$?
  say "$name: exit $rc in $(($(date +%s) - start)) s (log $log)"
  return $rc
}
recap() { grep -E '^[a-z0-9.]+ +: ok=' "$1" | sed 's/  */ /g'; }

step demo-1 make demo
recap "$work/demo-1.log" | while read -r line; do say "  demo-1 $line"; done
# doctor names a missing aardvark-dns within seconds (then deps puts it back).
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq aardvark-dns >/dev/null
start=$(date +%s)
doctor=$(lab/lab.sh doctor 2>&1) && { say "FAIL: doctor passed without aardvark-dns"; exit 1; }
say "  doctor without aardvark-dns, $(($(date +%s) - start)) s: $(grep -m1 'doctor:' <<<"$doctor")"
grep -q aardvark-dns <<<"$doctor" || { say "FAIL: doctor did not name aardvark-dns"; exit 1; }
lab/lab.sh deps

step demo-2 make demo
recap "$work/demo-2.log" | while read -r line; do say "  demo-2 $line"; done
if recap "$work/demo-2.log" | grep -qv ' changed=0 '; then
  say "FAIL: the second make demo changed something"
  exit 1
fi
audit=$(grep -Eo '[0-9]+ error\(s\), [0-9]+ warning\(s\), [0-9]+ note\(s\)' "$work/demo-2.log" | tail -n1)
say "  demo-2 audit: $audit"
[[ $audit == "0 error(s), 0 warning(s),"* ]] || { say "FAIL: the audit is not clean"; exit 1; }
((run_test)) && step make-test make test
((run_ci)) && step ci-run env CI=true bash .ci/run
say "PASS"
((keep)) || { cd /; rm -rf "$work"; }
