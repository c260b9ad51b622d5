#!/bin/sh
# Elastic Beanstalk release step (leader instance, once per deploy; see .ebextensions/02_release.config).
# Runs the image's "release" command (docker/release.sh: migrate, static files,
# the listing, the first admin) with the environment's properties and secrets,
# from the bundle's staging directory.
set -eu

get_config="${EB_GET_CONFIG:-/opt/elasticbeanstalk/bin/get-config}"

env_file="$(mktemp)"
trap 'rm -f "$env_file"' EXIT
# Properties come from get-config; environment secrets (ARNs in the namespace
# aws:elasticbeanstalk:application:environmentsecrets) are resolved by Beanstalk
# into this script's own environment, so their values are taken from there.
PROPERTIES="$("$get_config" environment)" OPTIONS="$("$get_config" optionsettings)" python3 -c '
import json, os, sys
values = json.loads(os.environ["PROPERTIES"])
options = json.loads(os.environ["OPTIONS"])
for name in options.get("aws:elasticbeanstalk:application:environmentsecrets", {}):
    if name not in os.environ:
        sys.exit(f"environment secret {name} did not reach the release step; check the instance profile may read it")
    values[name] = os.environ[name]
for name, value in values.items():
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
