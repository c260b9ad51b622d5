#!/bin/sh
# stockchat container entrypoint: the first argument names the process to run.
#
#   web            uvicorn serving HTTP and WebSockets on $PORT
#                  (the default, unless STOCKCHAT_PROCESS names another command);
#                  STOCKCHAT_WEB_SERVER=daphne serves with daphne instead
#   feed           the market feed worker (run exactly one per deployment)
#   migrate        apply database migrations, then exit
#   release        docker/release.sh: migrate, static files to S3, the listing, the
#                  first admin; run once per deploy, before the new web tasks start
#   collectstatic  upload changed static files to S3, then exit
#   manage ARGS    any other manage.py command
#   anything else  run as given (e.g. sh for a shell)
#
# Web and feed containers never migrate: with several of them starting at once
# they would race, and a deploy must migrate exactly once.
set -eu

# On ECS the database password comes from Secrets Manager as its own variable;
# the URL is put together here, with the user and password URL-encoded.
if [ -z "${DATABASE_URL:-}" ] && [ -n "${DATABASE_HOST:-}" ]; then
  DATABASE_URL="$(python -c 'import os
from urllib.parse import quote
e = os.environ
print("postgresql://{}:{}@{}:{}/{}?sslmode=require".format(
    quote(e["DATABASE_USER"], safe=""), quote(e["DATABASE_PASSWORD"], safe=""),
    e["DATABASE_HOST"], e.get("DATABASE_PORT", "5432"), e.get("DATABASE_NAME", "stockchat")))')"
  export DATABASE_URL
fi

role="${1:-${STOCKCHAT_PROCESS:-web}}"
[ "$#" -gt 0 ] && shift
# The health check script reads this to know which process it is checking.
printf '%s\n' "$role" >"${STOCKCHAT_ROLE_FILE:-/tmp/stockchat-role}" 2>/dev/null || true

case "$role" in
  web)
    # uvicorn by default: it wins every fan-out figure of `make bench` (bench/results/REPORT.md).
    server="${STOCKCHAT_WEB_SERVER:-uvicorn}"
    case "$server" in
      daphne)
        # daphne's own access log prints full URLs, query strings included, which
        # can carry credentials; the app logs each request (path, status, request id).
        # No --proxy-headers: it takes the client address from the leftmost
        # X-Forwarded-For entry, which the client writes. The app reads the
        # address (STOCKCHAT_TRUSTED_PROXY_HOPS) and the scheme itself.
        # daphne's own arguments, through a daphne that closes every WebSocket with
        # 1012 (service restart) on SIGTERM instead of dropping it (stockchat/deploy/server.py).
        set -- --bind 0.0.0.0 --port "${PORT:-8000}" --access-log /dev/null "$@"
        exec python -m stockchat.deploy.server "$@" stockchat.asgi:application
        ;;
      uvicorn)
        # No access log, for the same reason as daphne's; no lifespan (Channels'
        # router has none); WebSockets through websockets' sans-I/O protocol, named
        # so that a missing library stops start-up instead of refusing every socket;
        # no permessage-deflate, as daphne: it doubles the memory per socket and
        # compresses every frame once per socket. A ping every 20 s keeps quiet
        # sockets open through the load balancer (idle timeout 300 s) and finds dead
        # peers. On SIGTERM uvicorn closes every socket with 1012 (service restart),
        # then waits up to 5 s for requests in flight, well inside ECS's stopTimeout.
        set -- --host 0.0.0.0 --port "${PORT:-8000}" --no-access-log --lifespan off \
          --ws websockets-sansio --ws-per-message-deflate false \
          --ws-ping-interval 20 --ws-ping-timeout 20 --timeout-graceful-shutdown 5 "$@"
        # uvicorn reads X-Forwarded-* by default from 127.0.0.1 (or from
        # $FORWARDED_ALLOW_IPS) and then trusts the leftmost entry: always off,
        # the app reads them itself, as under daphne.
        set -- --no-proxy-headers "$@"
        exec uvicorn "$@" stockchat.asgi:application
        ;;
      *)
        echo "STOCKCHAT_WEB_SERVER must be uvicorn or daphne, not '$server'" >&2
        exit 64
        ;;
    esac
    ;;
  feed)
    exec python manage.py run_market_feed "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  collectstatic)
    exec python manage.py collectstatic --noinput "$@"
    ;;
  release)
    exec "$(dirname "$0")/release.sh" "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
