#!/bin/sh
# Docker marks a container unhealthy when the image's HEALTHCHECK fails (a hung
# web server; a feed worker whose heartbeat is stale) but restarts nothing, and
# neither does Elastic Beanstalk. A systemd timer on the instance restarts
# containers Docker reports unhealthy, once a minute.
set -eu

units="${STOCKCHAT_SYSTEMD_DIR:-/etc/systemd/system}"

cat >"$units/stockchat-restart-unhealthy.service" <<'UNIT'
[Unit]
Description=Restart stockchat containers whose health check fails
After=docker.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'for id in $$(docker ps --quiet --filter health=unhealthy); do echo "restarting unhealthy container $$id"; docker restart "$$id"; done'
UNIT

cat >"$units/stockchat-restart-unhealthy.timer" <<'UNIT'
[Unit]
Description=Check stockchat containers' health every minute

[Timer]
OnBootSec=2min
OnUnitActiveSec=1min

[Install]
WantedBy=timers.target
UNIT

systemctl daemon-reload
systemctl enable --now stockchat-restart-unhealthy.timer
