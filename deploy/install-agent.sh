#!/bin/sh
# Install the Headcount agent on a school machine (Debian/Ubuntu), as root.
# Usage: sh deploy/install-agent.sh   (from a checkout or an unpacked release)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
python3 -m venv /opt/headcount
/opt/headcount/bin/pip install --quiet "$here[agent]"
id headcount >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin headcount
install -d -m 0755 /etc/headcount
[ -f /etc/headcount/agent.toml ] || install -m 0644 "$here/deploy/agent.example.toml" /etc/headcount/agent.toml
install -m 0644 "$here/deploy/headcount-agent.service" /etc/systemd/system/headcount-agent.service
systemctl daemon-reload
echo "Edit /etc/headcount/agent.toml, check it with:"
echo "  /opt/headcount/bin/headcount-agent scan --once --config /etc/headcount/agent.toml"
echo "then start it with:  systemctl enable --now headcount-agent"
