#!/bin/sh
# Let containers reach the instance metadata service (IMDSv2), which gives boto3
# the instance profile's credentials (S3 uploads by the release step and the app,
# SES mail). A container on Docker's bridge network is one hop further away than
# the host, and with the default hop limit of 1 the token's reply never reaches
# it: boto3 then waits on the metadata service and finds no credentials. Runs
# before the image is built and the release step starts, on every new instance.
set -eu

imds="${STOCKCHAT_IMDS_ENDPOINT:-http://169.254.169.254}"
token="$(curl -sf -X PUT "$imds/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")"
metadata() {
  curl -sf -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/$1"
}
instance="$(metadata instance-id)"
region="$(metadata placement/region)"

aws ec2 modify-instance-metadata-options --region "$region" --instance-id "$instance" \
  --http-endpoint enabled --http-tokens required --http-put-response-hop-limit 2 >/dev/null
echo "instance metadata: IMDSv2 only, hop limit 2 (containers can reach it) on $instance"
