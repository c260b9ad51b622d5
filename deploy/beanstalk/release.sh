#!/bin/sh
# Elastic Beanstalk release step (leader instance, once per deploy; see .ebextensions/02_release.config).
# Runs the image's "release" command (migrate, then upload changed static files)
# with the environment's properties, from the bundle's staging directory.
set -eu

get_config="${EB_GET_CONFIG:-/opt/elasticbeanstalk/bin/get-config}"

env_file="$(mktemp)"
trap 'rm -f "$env_file"' EXIT
"$get_config" environment | python3 -c '
import json, sys
for name, value in json.load(sys.stdin).items():
    if "\n" in value:
        sys.exit(f"environment property {name} spans lines; docker --env-file cannot pass it")
    print(f"{name}={value}")
' >"$env_file"

# An environment that runs the feed worker leaves the release step to the web one.
if grep -q '^STOCKCHAT_PROCESS=feed$' "$env_file"; then
  echo "STOCKCHAT_PROCESS=feed: the web environment runs the release step"
  exit 0
fi

# The same Dockerfile the platform builds: its layers are cached, so whichever
# build runs second is immediate, and this never depends on the platform's tags.
image="$(docker build --quiet .)"
docker run --rm --env-file "$env_file" "$image" release
