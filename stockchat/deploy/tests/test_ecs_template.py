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


def test_no_secret_is_written_in_the_template(template):
    for resource in ("WebTaskDefinition", "FeedTaskDefinition"):
        c = container(template, resource)
        assert not [e["Name"] for e in c["Environment"] if SENSITIVE.search(e["Name"])]
        assert {s["Name"] for s in c["Secrets"]} == {
            "DJANGO_SECRET_KEY",
            "DATABASE_USER",
            "DATABASE_PASSWORD",
            "COGNITO_CLIENT_SECRET",
        }
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
    assert tg["HealthCheckPath"] == "/healthz"
    assert tg["Port"] == 8000
    assert {a["Key"]: a["Value"] for a in tg["TargetGroupAttributes"]}["stickiness.enabled"] == "false"
    web = container(template, "WebTaskDefinition")
    assert web["Command"] == ["web"]
    env = {e["Name"]: e["Value"] for e in web["Environment"]}
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


def test_media_bucket_is_private_and_no_bucket_uses_acls(template):
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert set(buckets) == {"StaticBucket", "MediaBucket"}
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert props["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    media_block = buckets["MediaBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(value is True for value in media_block.values())


def test_cognito_pool_has_client_domain_and_groups(template):
    res = template["Resources"]
    groups = {g["Properties"]["GroupName"] for g in resources_of(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admin", "premium"}
    client = res["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert "openid" in client["AllowedOAuthScopes"]
    assert resources_of(template, "AWS::Cognito::UserPoolDomain")
    env = {e["Name"] for e in container(template, "WebTaskDefinition")["Environment"]}
    assert {"COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_DOMAIN"} <= env


@pytest.mark.parametrize(("name", "resource"), [("web", "WebTaskDefinition"), ("feed", "FeedTaskDefinition")])
def test_standalone_task_definitions_match_the_template(template, name, resource):
    standalone = json.loads((ROOT / f"deploy/ecs/{name}-task-definition.json").read_text())
    ours = standalone["containerDefinitions"][0]
    theirs = container(template, resource)
    assert ours["command"] == theirs["Command"]
    assert [e["name"] for e in ours["environment"]] == [e["Name"] for e in theirs["Environment"]]
    assert [s["name"] for s in ours["secrets"]] == [s["Name"] for s in theirs["Secrets"]]
    assert all(s["valueFrom"].startswith("arn:aws:secretsmanager:") for s in ours["secrets"])


def test_every_variable_the_tasks_get_is_documented(template):
    guide = (ROOT / "docs/deploy.md").read_text()
    web = container(template, "WebTaskDefinition")
    for name in [e["Name"] for e in web["Environment"]] + [s["Name"] for s in web["Secrets"]]:
        assert f"`{name}`" in guide, name
