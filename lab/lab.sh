#!/usr/bin/env bash
# The lab shared by the tests and the demo: a local Debian 12 systemd image,
# a Podman network and an authoritative, TSIG-updatable BIND on that network.
# Every step is safe to re-run; `down` removes what `up` started.
#
#   lab/lab.sh deps | doctor | image | dns-image | mail-image | mail-ssh-image | ee-image | net | dns-up | dns-down | up | down | status
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
state=${MAILAUTH_LAB_STATE:-$repo/.lab}
export CONTAINERS_CONF=$here/containers.conf

image=localhost/mailauth/debian12:latest
dns_image=localhost/mailauth/labdns:latest
mail_image=localhost/mailauth/debian12-mail:latest
mail_ssh_image=localhost/mailauth/debian12-mail-ssh:latest
ee_base_image=localhost/mailauth/ee-base:latest
ee_image=localhost/mailauth/ee
# ee/execution-environment.yml as it is, on the lab's Debian base instead of CentOS Stream (no
# registry here): a venv of Debian's Python (lab/ee/Containerfile) and apt. PKGMGR_PRESERVE_CACHE skips the scripts' `dnf clean all`.
ee_build_args=("EE_BASE_IMAGE=$ee_base_image" PYCMD=/opt/ee/bin/python3 PYPKG=python3 PKGMGR=/usr/bin/apt-get
  PKGMGR_PRESERVE_CACHE=always)
net=mailauth-lab
subnet=10.89.53.0/24
gateway=10.89.53.1
dns_ip=10.89.53.53
dns_name=mailauth-labdns
demo_mx_ip=10.89.53.10
tsig_name=mailauth-lab
label=mailauth.lab=1
dns_config_changed=0

# Every Debian package the lab and the tests use on the host. netavark and aardvark-dns are named
# because podman without its recommends falls back to the CNI backend (lab/containers.conf pins
# netavark); iptables and nftables carry netavark's NAT.
debian_packages=(podman netavark aardvark-dns runc conmon iptables nftables debootstrap uidmap
  bind9-utils bind9-dnsutils bind9 pdns-server pdns-backend-sqlite3 sqlite3 postfix opendkim dkimpy-milter
  opendkim-tools dovecot-imapd rsync make shellcheck git curl ca-certificates)

log() { printf 'lab: %s\n' "$*" >&2; }

deps() {
  local missing=() p
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    # Daemons from these packages are started by the tests themselves, never by apt.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  fi
}

# The first Debian mirror of the host's apt sources: the only archive reachable here.
host_mirror() {
  local uri
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  [[ -n $uri ]] || uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

image() {
  if podman image exists "$image"; then return; fi
  local rootfs
  rootfs=$(mktemp -d /var/tmp/mailauth-rootfs.XXXXXX)
  log "bootstrapping Debian 12 into $rootfs (about a minute)"
  debootstrap --variant=minbase \
    --include=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates \
    bookworm "$rootfs" "$(host_mirror)" >"$rootfs.log" 2>&1 || { tail -n 20 "$rootfs.log" >&2; exit 1; }
  rm -f "$rootfs"/etc/apt/sources.list
  cp -a /etc/apt/sources.list.d/. "$rootfs"/etc/apt/sources.list.d/ 2>/dev/null || true
  [[ -e /etc/apt/sources.list ]] && cp /etc/apt/sources.list "$rootfs"/etc/apt/sources.list
  : >"$rootfs"/etc/machine-id
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  # An empty package list must look old, or apt's cache_valid_time would skip the first update.
  touch -d @0 "$rootfs"/var/lib/apt/lists
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/lib/systemd/systemd"]' - "$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
}

dns_image() {
  podman image exists "$dns_image" && return
  image
  log "building $dns_image"
  podman build -q --pull=never --network=host -t "$dns_image" -f "$here/dns/Containerfile" "$here/dns" >/dev/null
}

# An image built from a Containerfile is rebuilt when the Containerfile or its base image changed:
# the hash of both is the image's label mailauth.source.
source_hash() { { sha256sum <"$1"; podman image inspect -f '{{.Id}}' "$2"; } | sha256sum | cut -c1-16; }
current() {
  podman image exists "$1" &&
    [[ $(podman image inspect -f '{{index .Labels "mailauth.source"}}' "$1") == "$2" ]]
}

mail_image() {
  image
  local hash
  hash=$(source_hash "$here/mail/Containerfile" "$image")
  current "$mail_image" "$hash" && return
  log "building $mail_image (Postfix, OpenDKIM, OpenDMARC, policyd-spf, Dovecot preinstalled)"
  podman build -q --pull=never --network=host --label "mailauth.source=$hash" -t "$mail_image" \
    -f "$here/mail/Containerfile" "$here/mail" >/dev/null
}

mail_ssh_image() {
  mail_image
  local hash
  hash=$(source_hash "$here/mail-ssh/Containerfile" "$mail_image")
  current "$mail_ssh_image" "$hash" && return
  log "building $mail_ssh_image (the mail image with an SSH server)"
  podman build -q --pull=never --network=host --label "mailauth.source=$hash" -t "$mail_ssh_image" \
    -f "$here/mail-ssh/Containerfile" "$here/mail-ssh" >/dev/null
}

# The execution environment, built with ansible-builder from ee/execution-environment.yml on the lab's
# base. Tagged with a hash of its build context, base image and build arguments: an unchanged
# collection reuses the image. Prints the image's name.
ee_image() {
  local builder=${ANSIBLE_BUILDER:-$repo/.venv/bin/ansible-builder} context=$repo/.build/ee-lab arg tag old
  image
  if ! podman image exists "$ee_base_image"; then
    log "building $ee_base_image"
    podman build -q --pull=never --network=host -t "$ee_base_image" -f "$here/ee/Containerfile" "$here/ee" >/dev/null
  fi
  rm -rf "$context"
  "$builder" create -f "$repo/ee/execution-environment.yml" -c "$context" >/dev/null
  # Byte code of the work tree's plugins is no part of the collection (galaxy.yml build_ignore).
  find "$context" -name __pycache__ -prune -exec rm -rf {} +
  tag=$({
    podman image inspect -f '{{.Id}}' "$ee_base_image"
    printf '%s\n' "${ee_build_args[@]}"
    (cd "$context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-12)
  if ! podman image exists "$ee_image:$tag"; then
    log "building $ee_image:$tag with ansible-builder (a few minutes the first time)"
    # The host's CA store for pip's downloads (lab/ee/Containerfile); it stays out of the image.
    local ca=/etc/ssl/certs/ca-certificates.crt
    local build=(--extra-build-cli-args "--pull=never --network=host --volume=$ca:$ca:ro")
    for arg in "${ee_build_args[@]}"; do build+=(--build-arg "$arg"); done
    "$builder" build -f "$repo/ee/execution-environment.yml" -c "$context" -t "$ee_image:$tag" "${build[@]}" \
      >"$context.log" 2>&1 || { tail -n 30 "$context.log" >&2; exit 1; }
  fi
  podman tag "$ee_image:$tag" "$ee_image:latest"
  # The images of earlier inputs (latest has moved off them, so removing their tag removes them).
  for old in $(podman images --format '{{.Repository}}:{{.Tag}}' "$ee_image"); do
    [[ $old == "$ee_image:$tag" || $old == "$ee_image:latest" ]] || podman rmi "$old" >/dev/null
  done
  echo "$ee_image:$tag"
}

net() {
  podman network exists "$net" && return
  # A bridge that still holds the lab's gateway but that podman no longer knows (left by an earlier
  # lab after a podman reset, or made under the other network backend) blocks the subnet.
  local stale
  stale=$(ip -o -4 addr show to "$gateway/32" 2>/dev/null | awk '{print $2}' | head -n1)
  if [[ -n $stale ]]; then
    log "a bridge from an earlier lab ($stale, $gateway) that podman no longer knows holds the lab subnet: deleting it"
    ip link delete "$stale"
  fi
  podman network create --subnet "$subnet" --gateway "$gateway" "$net" >/dev/null
}

# The host's resolvers (/etc/resolv.conf) that a container can reach: not loopback ones.
host_resolvers() {
  local ns out=""
  while read -r ns; do
    [[ $ns == 127.* || $ns == *:* ]] && continue
    out+="$ns; "
  done < <(awk '$1 == "nameserver" {print $2}' /etc/resolv.conf 2>/dev/null)
  # No reachable host resolver (systemd-resolved's 127.0.0.53): the network's aardvark-dns.
  echo "${out:-$gateway; }"
}

zones() { grep -v '^\s*#' "$here/zones.txt" | grep -v '^\s*$'; }

# named.conf, TSIG key and zone files; existing zone data is kept so that the
# demo's second run sees what its first run published.
dns_config() {
  mkdir -p "$state/dns/zones"
  [[ -s $state/tsig.secret ]] || python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())' >"$state/tsig.secret"
  chmod 600 "$state/tsig.secret"
  local secret zone
  secret=$(cat "$state/tsig.secret")
  {
    cat <<EOF
// Written by lab/lab.sh; the lab's only DNS server.
options {
  directory "/lab";
  pid-file "/lab/named.pid";
  session-keyfile "/lab/session.key";
  listen-on port 53 { any; };
  listen-on-v6 { none; };
  // Names outside the lab zones go to the host's own resolver, so lab containers
  // reach the Debian archive whatever podman's network backend provides.
  recursion yes;
  allow-recursion { any; };
  forwarders { $(host_resolvers) };
  forward only;
  dnssec-validation no;
  notify no;
  allow-transfer { key "$tsig_name"; };
};
key "$tsig_name" { algorithm hmac-sha256; secret "$secret"; };
EOF
    while read -r zone; do
      printf 'zone "%s" { type primary; file "zones/%s.zone"; allow-update { key "%s"; }; };\n' "$zone" "$zone" "$tsig_name"
    done < <(zones)
  } >"$state/dns/named.conf.new"
  # A changed configuration (a zone added to zones.txt) needs a restart of the running server.
  if cmp -s "$state/dns/named.conf.new" "$state/dns/named.conf"; then
    rm -f "$state/dns/named.conf.new"
  else
    mv "$state/dns/named.conf.new" "$state/dns/named.conf"
    dns_config_changed=1
  fi
  while read -r zone; do
    [[ -e $state/dns/zones/$zone.zone ]] && continue
    {
      # shellcheck disable=SC2016 # $TTL is zone-file syntax, not a shell variable
      printf '$TTL 60\n@ IN SOA ns1.lab.test. hostmaster.lab.test. 1 60 60 600 60\n@ IN NS ns1.lab.test.\n'
      [[ $zone == lab.test ]] && printf 'ns1 IN A %s\n' "$dns_ip"
      # The demo's mail server, so that "v=spf1 mx -all" passes its address.
      [[ $zone == example.test ]] && printf '@ IN MX 10 mx1.example.test.\nmx1 IN A %s\n' "$demo_mx_ip"
      # The standard DNSBL test entry: 127.0.0.2 is always listed.
      [[ $zone == dnsbl.test ]] && printf '2.0.0.127 IN A 127.0.0.2\n'
    } >"$state/dns/zones/$zone.zone"
  done < <(zones)
  write_lab_json
}

write_lab_json() {
  python3 - "$state" "$dns_ip" "$tsig_name" "$net" "$image" "$here/zones.txt" <<'EOF'
import json, sys
state, ip, key, net, image, zones_file = sys.argv[1:]
zones = [z.strip() for z in open(zones_file) if z.strip() and not z.startswith("#")]
lab = {"dns_server": ip, "dns_port": 53, "tsig_name": key, "tsig_algorithm": "hmac-sha256",
       "tsig_secret_file": f"{state}/tsig.secret", "zones": zones, "network": net, "image": image}
with open(f"{state}/lab.json", "w") as f:
    json.dump(lab, f, indent=2)
EOF
}

dns_answers() {
  # An SOA answer ends in five numbers; dig's own error text does not.
  dig +time=1 +tries=2 @"$dns_ip" lab.test SOA +short 2>/dev/null | grep -Eq ' [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$'
}

# The state directory the running DNS serves: another checkout's lab has another TSIG key.
dns_state_mounted() {
  podman container inspect -f '{{range .Mounts}}{{.Source}}{{end}}' "$dns_name" 2>/dev/null || true
}

dns_up() {
  dns_image
  net
  dns_config
  # "Running" is not enough: podman can miss that named died inside (seen once), so ask it.
  if [[ $(podman container inspect -f '{{.State.Running}}' "$dns_name" 2>/dev/null) != true ]] ||
    ((dns_config_changed)) || [[ $(dns_state_mounted) != "$state/dns" ]] || ! dns_answers; then
    podman rm -f -t 2 "$dns_name" >/dev/null 2>&1 || true
    podman run -d --name "$dns_name" --label "$label" --network "$net" --ip "$dns_ip" \
      -v "$state/dns:/lab" "$dns_image" >/dev/null
  fi
  local _
  for _ in $(seq 1 50); do
    dns_answers && { log "DNS up at $dns_ip"; return; }
    sleep 0.2
  done
  podman logs "$dns_name" >&2 || true
  log "the lab DNS did not answer at $dns_ip"
  exit 1
}

dns_down() {
  podman rm -f -t 2 "$dns_name" >/dev/null 2>&1 || true
}

down() {
  local ids
  ids=$(podman ps -aq --filter "label=$label" 2>/dev/null || true)
  # shellcheck disable=SC2086 # one container id a word
  [[ -n $ids ]] && podman rm -f -t 2 $ids >/dev/null
  podman network exists "$net" 2>/dev/null && podman network rm -f "$net" >/dev/null
  rm -rf "$state/dns" "$state/lab.json"
  log "down"
}

# doctor: each prerequisite of the lab, checked in seconds, one line of cause and fix on failure.
doctor_fail() { log "doctor: $1"; log "  fix: $2"; exit 1; }

doctor_host() {
  local p missing=()
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) || doctor_fail "missing Debian packages: ${missing[*]}" "lab/lab.sh deps"
  local info runtime backend
  info=$(timeout 30 podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}}' 2>&1) ||
    doctor_fail "podman info failed: ${info##*$'\n'}" "check CONTAINERS_CONF=$here/containers.conf and 'podman info'"
  read -r runtime backend <<<"$info"
  [[ $runtime == runc ]] ||
    doctor_fail "podman's runtime is '$runtime' (crun cannot run on hybrid cgroups)" "keep runtime = \"runc\" in $here/containers.conf"
  [[ $backend == netavark ]] ||
    doctor_fail "podman's network backend is '$backend', not netavark (no resolver on lab networks)" "apt-get install netavark aardvark-dns; keep network_backend = \"netavark\" in $here/containers.conf"
  local n u
  n=$(ulimit -Hn) u=$(ulimit -Hu)
  if ! [[ $n == unlimited || $n -ge 16384 ]] || ! [[ $u == unlimited || $u -ge 16384 ]]; then
    doctor_fail "hard ulimits nofile=$n nproc=$u are below containers.conf's 16384" "raise them (ulimit -Hn/-Hu) or lower default_ulimits in $here/containers.conf"
  fi
  # Left by a switch from CNI to netavark: its route for 10.88.0.0/16 breaks podman's default network.
  ! ip link show cni-podman0 >/dev/null 2>&1 ||
    doctor_fail "the old CNI bridge cni-podman0 (10.88.0.1/16) is still up and breaks podman's default network" "ip link delete cni-podman0"
  local dns
  dns=$(host_resolvers)
  [[ $dns != "$gateway; " ]] || log "doctor: no non-loopback resolver in /etc/resolv.conf; the lab DNS forwards to aardvark-dns at $gateway"
}

doctor_network() {
  dns_answers || doctor_fail "the lab DNS at $dns_ip does not answer" "lab/lab.sh dns-up (podman logs $dns_name says why it stopped)"
  local mirror host
  mirror=$(host_mirror)
  host=${mirror#*://}
  host=${host%%/*}
  dig +time=2 +tries=2 @"$dns_ip" "$host" A +short 2>/dev/null | grep -Eq '^[0-9.]+$' ||
    doctor_fail "the lab DNS cannot resolve the Debian mirror $host (forwarders: $(host_resolvers))" "check that the host's resolver in /etc/resolv.conf answers: dig $host"
  local out
  out=$(timeout 60 podman run --rm --network "$net" --dns "$dns_ip" "$image" python3 -c '
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/dists/bookworm/Release", timeout=20) as r:
    print("ok" if r.read(64).startswith(b"Origin") else "not a Release file")' "$mirror" 2>&1) || true
  [[ $out == ok ]] ||
    doctor_fail "a lab container cannot fetch $mirror/dists/bookworm/Release: ${out##*$'\n'}" "check podman's NAT (netavark, iptables) and the lab DNS's forwarders in $state/dns/named.conf"
  log "doctor: all checks passed"
}

# A lab container on a mailauth-lab network that podman cannot see any more (made under the other
# network backend) cannot be started: remove such containers, the DNS zone data is kept.
stale_lab() {
  local ids
  ids=$(podman ps -aq --filter "label=$label" 2>/dev/null || true)
  [[ -n $ids ]] || return 0
  podman network exists "$net" && return 0
  log "a lab from another network backend is left (containers on a $net network podman no longer sees): rebuilding it"
  # shellcheck disable=SC2086 # one container id a word
  podman rm -f -t 2 $ids >/dev/null
}

doctor() {
  doctor_host
  if ! podman container exists "$dns_name" 2>/dev/null; then
    doctor_fail "the lab DNS is not running" "lab/lab.sh up"
  fi
  doctor_network
}

status() {
  podman ps --filter "label=$label" --format '{{.Names}} {{.Status}}'
  [[ -e $state/lab.json ]] && cat "$state/lab.json"
}

case ${1:-} in
  deps) deps ;;
  image) image ;;
  dns-image) dns_image ;;
  mail-image) mail_image ;;
  mail-ssh-image) mail_ssh_image ;;
  ee-image) ee_image ;;
  net) net ;;
  dns-up) dns_up ;;
  dns-down) dns_down ;;
  doctor) doctor ;;
  up) deps; doctor_host; stale_lab; image; dns_up; doctor_network ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 deps|doctor|image|dns-image|mail-image|mail-ssh-image|ee-image|net|dns-up|dns-down|up|down|status" >&2; exit 2 ;;
esac
