"""The ECS CloudFormation template and task definitions: what they promise, read from the files.

cfn-lint validates the template against the CloudFormation schemas (make deploy-lint);
these tests check the choices that keep the deployment correct and safe.
"""

from __future__ import annotations

import json
import re

import pytest
from cfnlint.decode import cfn_yaml

from stockchat.deploy.tests.conftest import ROOT

SENSITIVE = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$")


@pytest.fixture(scope="module")
def template() -> dict:
    return cfn_yaml.load(str(ROOT / "deploy/ecs/stockchat.yaml"))


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def container(template: dict, resource: str) -> dict:
    return template["Resources"][resource]["Properties"]["ContainerDefinitions"][0]


def environment_names(c: dict) -> list[str]:
    # An entry may be conditional: {"Fn::If": [condition, entry, AWS::NoValue]}.
    return [e["Fn::If"][1]["Name"] if "Fn::If" in e else e["Name"] for e in c["Environment"]]


def test_no_secret_is_written_in_the_template(template):
    database = {"DJANGO_SECRET_KEY", "DATABASE_USER", "DATABASE_PASSWORD"}
    expected = {
        "WebTaskDefinition": database | {"REDIS_PASSWORD", "COGNITO_CLIENT_SECRET"},
        "FeedTaskDefinition": database | {"REDIS_PASSWORD"},
        "ReleaseTaskDefinition": database,
    }
    for resource, secrets in expected.items():
        c = container(template, resource)
        assert not [name for name in environment_names(c) if SENSITIVE.search(name)]
        assert {s["Name"] for s in c["Secrets"]} == secrets
    db = template["Resources"]["Database"]["Properties"]
    assert db["MasterUserPassword"]["Fn::Sub"].startswith("{{resolve:secretsmanager:")
    for name, secret in resources_of(template, "AWS::SecretsManager::Secret").items():
        props = secret["Properties"]
        literal = props.get("SecretString")
        assert "GenerateSecretString" in props or isinstance(literal, dict), name


def test_web_sits_behind_an_alb_that_carries_websockets_and_checks_healthz(template):
    res = template["Resources"]
    attrs = {a["Key"]: a["Value"] for a in res["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    assert int(attrs["idle_timeout.timeout_seconds"]) >= 120
    tg = res["WebTargetGroup"]["Properties"]
    # Liveness only: /healthz touches neither the database nor Redis (stockchat/health.py).
    assert tg["HealthCheckPath"] == "/healthz"
    assert tg["Port"] == 8000
    assert {a["Key"]: a["Value"] for a in tg["TargetGroupAttributes"]}["stickiness.enabled"] == "false"
    web = container(template, "WebTaskDefinition")
    assert web["Command"] == ["web"]
    env = {e["Name"]: e["Value"] for e in web["Environment"] if "Name" in e}
    assert env["STOCKCHAT_BEHIND_LOAD_BALANCER"] == "true"
    # The ALB is the one proxy that appends to X-Forwarded-For.
    assert env["STOCKCHAT_TRUSTED_PROXY_HOPS"] == "1"
    # Only the load balancer reaches the tasks' port.
    ingress = res["AppSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert ingress == [
        {
            "IpProtocol": "tcp",
            "FromPort": 8000,
            "ToPort": 8000,
            "SourceSecurityGroupId": {"Ref": "LoadBalancerSecurityGroup"},
        }
    ]


def test_exactly_one_feed_worker_even_during_a_deploy(template):
    feed = template["Resources"]["FeedService"]["Properties"]
    assert feed["DesiredCount"] == 1
    assert feed["DeploymentConfiguration"]["MaximumPercent"] == 100
    assert container(template, "FeedTaskDefinition")["Command"] == ["feed"]
    # Only the web service is autoscaled.
    targets = resources_of(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert [t["Properties"]["ResourceId"]["Fn::Sub"] for t in targets.values()] == [
        "service/${Cluster}/${WebService.Name}"
    ]


def test_web_scales_on_cpu_and_requests_per_task(template):
    policies = resources_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in policies
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    # Autoscaling owns the count; a stack update must not reset it.
    assert "DesiredCount" not in template["Resources"]["WebService"]["Properties"]


def test_stateful_resources_survive_deletion_and_replacement(template):
    res = template["Resources"]
    retained = ["UserPool", "DjangoSecretKey", "DatabaseSecret", "CacheAuthToken", "CognitoClientSecret", "LogGroup",
                "MediaBucket", "StaticBucket", "AccessLogsBucket"]  # fmt: skip
    for name in retained:
        assert (res[name]["DeletionPolicy"], res[name]["UpdateReplacePolicy"]) == ("Retain", "Retain"), name
    assert (res["Database"]["DeletionPolicy"], res["Database"]["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    assert res["Database"]["Properties"]["DeletionProtection"] is True


def test_redis_fails_over_and_requires_tls_and_a_token(template):
    cache = template["Resources"]["Cache"]["Properties"]
    assert cache["NumCacheClusters"] >= 2
    assert cache["AutomaticFailoverEnabled"] is True
    assert cache["MultiAZEnabled"] is True
    assert cache["TransitEncryptionEnabled"] is True
    assert cache["AuthToken"]["Fn::Sub"] == "{{resolve:secretsmanager:${CacheAuthToken}}}"
    for resource in ("WebTaskDefinition", "FeedTaskDefinition"):
        c = container(template, resource)
        redis_url = next(e["Value"] for e in c["Environment"] if e.get("Name") == "REDIS_URL")
        assert redis_url["Fn::Sub"].startswith("rediss://")
        assert {"Name": "REDIS_PASSWORD", "ValueFrom": {"Ref": "CacheAuthToken"}} in c["Secrets"]


def test_load_balancer_logs_to_a_bucket_that_expires_them(template):
    res = template["Resources"]
    attrs = {a["Key"]: a["Value"] for a in res["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    assert attrs["access_logs.s3.enabled"] == "true"
    assert attrs["access_logs.s3.bucket"] == {"Ref": "AccessLogsBucket"}
    rules = res["AccessLogsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules[0]["ExpirationInDays"] == {"Ref": "AccessLogRetentionDays"}
    assert res["LoadBalancer"]["DependsOn"] == "AccessLogsBucketPolicy"


def test_operators_can_run_management_commands_with_ecs_exec(template):
    res = template["Resources"]
    for service in ("WebService", "FeedService"):
        assert res[service]["Properties"]["EnableExecuteCommand"] is True
    for role in ("WebTaskRole", "FeedTaskRole"):
        statements = res[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        actions = {a for st in statements if isinstance(st, dict) and "Action" in st for a in st["Action"]}
        assert "ssmmessages:OpenDataChannel" in actions, role


def test_containers_check_their_own_health(template):
    for resource in ("WebTaskDefinition", "FeedTaskDefinition"):
        check = container(template, resource)["HealthCheck"]
        assert check["Command"] == ["CMD", "python", "/app/docker/healthcheck.py"]
    assert "HealthCheck" not in container(template, "ReleaseTaskDefinition")


def test_the_image_architecture_is_a_parameter_every_task_follows(template):
    assert template["Parameters"]["CpuArchitecture"]["AllowedValues"] == ["X86_64", "ARM64"]
    for resource in ("WebTaskDefinition", "FeedTaskDefinition", "ReleaseTaskDefinition"):
        platform = template["Resources"][resource]["Properties"]["RuntimePlatform"]
        assert platform["CpuArchitecture"] == {"Ref": "CpuArchitecture"}
    guide = (ROOT / "docs/deploy.md").read_text()
    # The build command in the guide names the platform the default architecture needs.
    builds = re.findall(r"docker buildx build[^\n]*", guide)
    assert builds
    assert all("--platform" in b for b in builds)
    assert "docker build " not in guide


def test_media_bucket_is_private_and_no_bucket_uses_acls(template):
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert set(buckets) == {"StaticBucket", "MediaBucket", "AccessLogsBucket"}
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert props["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    media_block = buckets["MediaBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(value is True for value in media_block.values())


def test_cognito_pool_has_client_domain_and_groups(template):
    res = template["Resources"]
    groups = {g["Properties"]["GroupName"] for g in resources_of(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admin", "staff", "premium"}
    params = template["Parameters"]
    assert params["CognitoSuperuserGroups"]["Default"] == "admin"
    assert params["CognitoStaffGroups"]["Default"] == "staff"
    web_env = {e["Name"]: e["Value"] for e in container(template, "WebTaskDefinition")["Environment"] if "Name" in e}
    assert web_env["STOCKCHAT_SUPERUSER_GROUPS"] == {"Ref": "CognitoSuperuserGroups"}
    assert web_env["STOCKCHAT_STAFF_GROUPS"] == {"Ref": "CognitoStaffGroups"}
    client = res["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert "openid" in client["AllowedOAuthScopes"]
    assert resources_of(template, "AWS::Cognito::UserPoolDomain")
    env = set(environment_names(container(template, "WebTaskDefinition")))
    assert {"COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_DOMAIN"} <= env


def test_cognito_and_the_app_mail_through_ses_when_an_identity_is_given(template):
    pool = template["Resources"]["UserPool"]["Properties"]["EmailConfiguration"]["Fn::If"]
    assert pool[0] == "UseSes"
    assert pool[1]["EmailSendingAccount"] == "DEVELOPER"
    assert pool[1]["From"] == {"Ref": "MailFrom"}
    conditional = [e["Fn::If"] for e in container(template, "WebTaskDefinition")["Environment"] if "Fn::If" in e]
    assert {"Name": "STOCKCHAT_EMAIL_BACKEND", "Value": "ses"} in [c[1] for c in conditional]
    assert {"Name": "DEFAULT_FROM_EMAIL", "Value": {"Ref": "MailFrom"}} in [c[1] for c in conditional]


@pytest.mark.parametrize(
    ("name", "resource"),
    [("web", "WebTaskDefinition"), ("feed", "FeedTaskDefinition"), ("release", "ReleaseTaskDefinition")],
)
def test_standalone_task_definitions_match_the_template(template, name, resource):
    standalone = json.loads((ROOT / f"deploy/ecs/{name}-task-definition.json").read_text())
    ours = standalone["containerDefinitions"][0]
    theirs = container(template, resource)
    assert ours["command"] == theirs["Command"]
    assert [e["name"] for e in ours["environment"]] == environment_names(theirs)
    assert ours.get("healthCheck", {}).get("command") == theirs.get("HealthCheck", {}).get("Command")
    assert [s["name"] for s in ours["secrets"]] == [s["Name"] for s in theirs["Secrets"]]
    assert all(s["valueFrom"].startswith("arn:aws:secretsmanager:") for s in ours["secrets"])


def test_every_variable_the_tasks_get_is_documented(template):
    guide = (ROOT / "docs/deploy.md").read_text()
    for resource in ("WebTaskDefinition", "FeedTaskDefinition", "ReleaseTaskDefinition"):
        c = container(template, resource)
        for name in environment_names(c) + [s["Name"] for s in c["Secrets"]]:
            assert f"`{name}`" in guide, name


def test_media_bucket_takes_browser_uploads_from_the_site_only(template):
    """Chat attachments are POSTed by the site's pages straight to the private media bucket."""
    bucket = template["Resources"]["MediaBucket"]["Properties"]
    (rule,) = bucket["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]
    assert rule["AllowedOrigins"] == [{"Fn::Sub": "https://${DomainName}"}]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
