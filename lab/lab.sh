#!/usr/bin/env bash
# The lab shared by the tests and the demo: a local Debian 12 systemd image,
# a Podman network and an authoritative, TSIG-updatable BIND on that network.
# Every step is safe to re-run; `down` removes what `up` started.
#
#   lab/lab.sh deps | image | dns-image | mail-image | net | dns-up | dns-down | up | down | status
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
state=${MAILAUTH_LAB_STATE:-$repo/.lab}
export CONTAINERS_CONF=$here/containers.conf

image=localhost/mailauth/debian12:latest
dns_image=localhost/mailauth/labdns:latest
mail_image=localhost/mailauth/debian12-mail:latest
net=mailauth-lab
subnet=10.89.53.0/24
gateway=10.89.53.1
dns_ip=10.89.53.53
dns_name=mailauth-labdns
demo_mx_ip=10.89.53.10
tsig_name=mailauth-lab
label=mailauth.lab=1
dns_config_changed=0

debian_packages=(podman runc debootstrap uidmap bind9-utils bind9-dnsutils bind9 pdns-server
  pdns-backend-sqlite3 sqlite3 postfix opendkim opendkim-tools rsync make shellcheck)

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
  podman build -q --pull=never -t "$dns_image" -f "$here/dns/Containerfile" "$here/dns" >/dev/null
}

mail_image() {
  podman image exists "$mail_image" && return
  image
  log "building $mail_image (Postfix, OpenDKIM, OpenDMARC, policyd-spf preinstalled)"
  podman build -q --pull=never -t "$mail_image" -f "$here/mail/Containerfile" "$here/mail" >/dev/null
}

net() {
  podman network exists "$net" || podman network create --subnet "$subnet" --gateway "$gateway" "$net" >/dev/null
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
  // Names outside the lab zones go to the network's own resolver (aardvark-dns),
  // so lab containers can still reach the Debian archive.
  recursion yes;
  allow-recursion { any; };
  forwarders { $gateway; };
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

status() {
  podman ps --filter "label=$label" --format '{{.Names}} {{.Status}}'
  [[ -e $state/lab.json ]] && cat "$state/lab.json"
}

case ${1:-} in
  deps) deps ;;
  image) image ;;
  dns-image) dns_image ;;
  mail-image) mail_image ;;
  net) net ;;
  dns-up) dns_up ;;
  dns-down) dns_down ;;
  up) deps; image; dns_up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 deps|image|dns-image|mail-image|net|dns-up|dns-down|up|down|status" >&2; exit 2 ;;
esac
