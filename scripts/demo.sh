#!/usr/bin/env bash
# `make demo`: set up, bring up the lab's topology (dr by default), deploy playbooks/site.yml,
# then show the director's table and ten answers through the VIP from the client host.
set -euo pipefail
cd "$(dirname "$0")/.."
topology=${1:-dr}

missing=()
for needed in lab/labctl.py "lab/topologies/$topology.yml" playbooks/site.yml roles/director; do
  [ -e "$needed" ] || missing+=("$needed")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "make demo cannot run yet: missing ${missing[*]}" >&2
  exit 1
fi

make --no-print-directory setup
.venv/bin/python lab/labctl.py up "$topology" --name "$topology"
inventory=".lab/$topology/inventory.yml"
ansible-playbook -i "$inventory" playbooks/site.yml

# The first director, the first client and the first service's VIP, from the inventory.
read -r director client url < <(.venv/bin/python - "$inventory" <<'PY'
import ipaddress, sys, yaml
inventory = yaml.safe_load(open(sys.argv[1]))["all"]
groups = inventory.get("children", {})
first = lambda group: sorted(groups[group]["hosts"])[0]
service = inventory["vars"]["lvs_virtual_services"][0]
vip = ipaddress.ip_address(service["vip"])
host = "[%s]" % vip if vip.version == 6 else str(vip)
print(first("directors"), first("clients"), "http://%s:%s/" % (host, service.get("port", 80)))
PY
)
echo
echo "== ipvsadm -Ln on $director"
.venv/bin/python lab/labctl.py ssh "$topology" "$director" ipvsadm -Ln
echo
echo "== ten requests from $client to $url"
.venv/bin/python lab/labctl.py ssh "$topology" "$client" \
  "for i in 1 2 3 4 5 6 7 8 9 10; do curl -s --max-time 5 $url; done"
echo
echo "The lab is still running. Stop it with: make lab-down TOPOLOGY=$topology"
