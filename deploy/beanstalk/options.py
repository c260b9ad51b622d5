#!/usr/bin/env python3
"""Print the option settings of stockchat's web or feed environment on Elastic Beanstalk, as JSON.

Both environments deploy the same bundle, whose .ebextensions hold only what
they share; what differs is given to each environment directly, which also
takes precedence over .ebextensions:

    python3 deploy/beanstalk/options.py web --app-security-group sg-… \\
        --certificate-arn arn:aws:acm:… --env DJANGO_ALLOWED_HOSTS=stockchat.example.com \\
        --secret DJANGO_SECRET_KEY=arn:aws:secretsmanager:… > web-options.json
    aws elasticbeanstalk update-environment --region eu-west-1 --environment-name stockchat-web \\
        --option-settings file://web-options.json

web: behind an Application Load Balancer (HTTPS listener, /healthz, WebSocket
idle timeout, access logs), rolling deploys with an extra batch, 2+ instances.
feed: one instance, no load balancer, all-at-once deploys (the only kind a
single-instance environment has besides immutable), STOCKCHAT_PROCESS=feed.
Secrets are Secrets Manager or Parameter Store ARNs, which Beanstalk resolves
into environment variables on the instances (environment secrets); they never
appear in the environment's configuration. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm):[a-z0-9-]+:\d{12}:(secret:|parameter/).+")
VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")

SHARED_PROPERTIES = {"DJANGO_LOG_FORMAT": "json"}
WEB_PROPERTIES = {
    # The load balancer, then the instance's nginx, append to X-Forwarded-For:
    # the client's address is the second entry from the right.
    "STOCKCHAT_BEHIND_LOAD_BALANCER": "true",
    "STOCKCHAT_TRUSTED_PROXY_HOPS": "2",
    # Cognito groups that make a user superuser or staff at each sign-in.
    "STOCKCHAT_SUPERUSER_GROUPS": "admin",
    "STOCKCHAT_STAFF_GROUPS": "staff",
    # The release step (web environment only) imports the listing shipped in the image and a
    # starting close for each of its stocks, so the feed has prices to walk from.
    "STOCKCHAT_RELEASE_LISTING": "trading/data/listing.csv",
    "STOCKCHAT_RELEASE_PRICES": "trading/data/prices-daily.csv",
}
FEED_PROPERTIES = {"STOCKCHAT_PROCESS": "feed", "STOCKCHAT_FEED_STALE_SECONDS": "60"}


def _pairs(values: list[str], what: str) -> dict[str, str]:
    result = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not VARIABLE.match(name) or not value:
            raise SystemExit(f"{what} must look like NAME=VALUE, not {item!r}")
        result[name] = value
    return result


def option_settings(args: argparse.Namespace) -> list[dict[str, str]]:
    settings: dict[tuple[str, str], str] = {}

    def put(namespace: str, values: dict[str, str]) -> None:
        for name, value in values.items():
            settings[(namespace, name)] = str(value)

    properties = {**SHARED_PROPERTIES, **(WEB_PROPERTIES if args.role == "web" else FEED_PROPERTIES)}
    properties.update(_pairs(args.env, "--env"))
    secrets = _pairs(args.secret, "--secret")
    for name, arn in secrets.items():
        if not SECRET_ARN.match(arn):
            raise SystemExit(f"--secret {name} must be a Secrets Manager or Parameter Store ARN")
        if name in properties:
            raise SystemExit(f"{name} is given both as --env and as --secret")
    put("aws:elasticbeanstalk:application:environment", properties)
    put("aws:elasticbeanstalk:application:environmentsecrets", secrets)
    put(
        "aws:autoscaling:launchconfiguration",
        {
            # The one group the database's and Redis's security groups admit.
            "SecurityGroups": args.app_security_group,
            "DisableIMDSv1": "true",
            "InstanceType": args.instance_type,
        },
    )
    if args.instance_profile:
        put("aws:autoscaling:launchconfiguration", {"IamInstanceProfile": args.instance_profile})

    if args.role == "feed":
        put("aws:autoscaling:asg", {"MinSize": "1", "MaxSize": "1"})
        put("aws:elasticbeanstalk:command", {"DeploymentPolicy": "AllAtOnce"})
    else:
        if not args.certificate_arn:
            raise SystemExit("web needs --certificate-arn (the ACM certificate of the site's domain)")
        put("aws:autoscaling:asg", {"MinSize": str(args.min_instances), "MaxSize": str(args.max_instances)})
        # Add an instance above 60 % average CPU for five minutes, remove one below 25 %.
        put(
            "aws:autoscaling:trigger",
            {
                "MeasureName": "CPUUtilization",
                "Statistic": "Average",
                "Unit": "Percent",
                "Period": "5",
                "BreachDuration": "5",
                "UpperThreshold": "60",
                "LowerThreshold": "25",
            },
        )
        # New instances take traffic only after passing /healthz; capacity never drops.
        put(
            "aws:elasticbeanstalk:command",
            {"DeploymentPolicy": "RollingWithAdditionalBatch", "BatchSizeType": "Percentage", "BatchSize": "50"},
        )
        put(
            "aws:elasticbeanstalk:environment:process:default",
            {
                "Port": "80",
                "Protocol": "HTTP",
                # Liveness only: no database, no Redis (stockchat/health.py).
                "HealthCheckPath": "/healthz",
                "MatcherHTTPCode": "200",
                "HealthCheckInterval": "15",
                "HealthyThresholdCount": "2",
                "UnhealthyThresholdCount": "3",
                # Sockets on an instance being replaced get 60 s, then reconnect elsewhere.
                "DeregistrationDelay": "60",
                "StickinessEnabled": "false",
            },
        )
        # A quiet socket is kept for 5 minutes; the server pings every 20 s.
        put("aws:elbv2:loadbalancer", {"IdleTimeout": "300"})
        if args.access_logs_bucket:
            put(
                "aws:elbv2:loadbalancer",
                {"AccessLogsS3Enabled": "true", "AccessLogsS3Bucket": args.access_logs_bucket,
                 "AccessLogsS3Prefix": "alb"},
            )  # fmt: skip
        put(
            "aws:elbv2:listener:443",
            {
                "ListenerEnabled": "true",
                "Protocol": "HTTPS",
                "SSLCertificateArns": args.certificate_arn,
                "SSLPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            },
        )
    return [{"Namespace": ns, "OptionName": name, "Value": value} for (ns, name), value in settings.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=["web", "feed"])
    parser.add_argument("--app-security-group", required=True, help="sg-… admitted by the database and Redis")
    parser.add_argument("--instance-profile", default="", help="instance profile name (default: Beanstalk's)")
    parser.add_argument("--instance-type", default="t3.small")
    parser.add_argument("--certificate-arn", default="", help="web: ACM certificate for the HTTPS listener")
    parser.add_argument("--access-logs-bucket", default="", help="web: bucket for the load balancer's logs")
    parser.add_argument("--min-instances", type=int, default=2)
    parser.add_argument("--max-instances", type=int, default=6)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a plain property")
    parser.add_argument("--secret", action="append", default=[], metavar="NAME=ARN", help="a secret property")
    args = parser.parse_args(argv)
    if not 1 <= args.min_instances <= args.max_instances:
        raise SystemExit("--min-instances must be at least 1 and at most --max-instances")
    json.dump(option_settings(args), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
