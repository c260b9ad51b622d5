"""Creating the ECS stack against moto's server: a rehearsal of `aws cloudformation deploy`.

moto (pinned in requirements-dev.txt) speaks CloudFormation's API and creates
the resources it models: security groups, the load balancer, its target group
and listeners, the RDS instance, the S3 buckets, the log group, the IAM roles,
the ECS cluster, task definitions and services. The rest (Secrets Manager
secrets, ElastiCache, S3 bucket policies, CloudFront, Cognito, Application Auto
Scaling) moto's CloudFormation does not model; the test takes those resources
out and puts a placeholder wherever the template refers to them, and
docs/deploy.md lists them as what only a real account can prove.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from cfnlint.decode import cfn_yaml

from stockchat.deploy.tests.conftest import ROOT
from testsupport.servers import free_port

REGION = "eu-west-1"
# What moto 5.2's CloudFormation cannot create; docs/deploy.md names the same list.
NOT_REHEARSED = {
    "AWS::SecretsManager::Secret",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::S3::BucketPolicy",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::Distribution",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolGroup",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
}


def moto_cloudformation_types() -> set[str]:
    from moto.backends import get_backend
    from moto.cloudformation import parsing

    for service in ("ec2", "ecs", "elbv2", "rds", "s3", "logs", "iam", "elasticache", "cognitoidp"):
        get_backend(service)  # imports the service's models, which registers them
    return {model.cloudformation_type() for model in parsing.get_model_list()}


def _stub_text(text: str, removed: set[str]) -> str:
    # ${Name} and ${Name.Attribute} in Fn::Sub strings
    return re.sub(
        r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}",
        lambda m: f"stub-{m[1]}{'-' + m[2] if m[2] else ''}" if m[1] in removed else m[0],
        text,
    )


def _stub_references(node: Any, removed: set[str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in removed:
            return f"stub-{node['Ref']}"
        if set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            name, attribute = target if isinstance(target, list) else target.split(".", 1)
            if name in removed:
                return f"stub-{name}-{attribute}"
        if set(node) == {"Fn::Sub"}:
            value = node["Fn::Sub"]
            if isinstance(value, str):
                return {"Fn::Sub": _stub_text(value, removed)}
            return {"Fn::Sub": [_stub_text(value[0], removed), _stub_references(value[1], removed)]}
        return {key: _stub_references(value, removed) for key, value in node.items()}
    if isinstance(node, list):
        return [_stub_references(item, removed) for item in node]
    return node


def rehearsable(template: dict, supported: set[str]) -> tuple[dict, set[str]]:
    """The template without the resources moto cannot create, references to them stubbed."""
    result = copy.deepcopy(template)
    removed = {name for name, r in result["Resources"].items() if r["Type"] not in supported}
    for name in removed:
        del result["Resources"][name]
    result = _stub_references(result, removed)
    for resource in result["Resources"].values():
        depends = resource.get("DependsOn")
        if depends is not None:
            kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in removed]
            if kept:
                resource["DependsOn"] = kept
            else:
                del resource["DependsOn"]
    # Dynamic references name a secret that is not there: RDS gets the stubs' text.
    text = re.sub(r"\{\{resolve:secretsmanager:[^}]*\}\}", "rehearsal-only", json.dumps(result))
    return json.loads(text), {template["Resources"][name]["Type"] for name in removed}


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aws(moto_server):
    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=moto_server,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture(scope="module")
def template() -> dict:
    return cfn_yaml.load(str(ROOT / "deploy/ecs/stockchat.yaml"))


@pytest.fixture(scope="module")
def stack(aws, template):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{'abab'[i]}")["Subnet"][
            "SubnetId"
        ]
        for i in range(4)
    ]
    certificate = aws("acm").request_certificate(DomainName="stockchat.example.com")["CertificateArn"]
    body, skipped = rehearsable(template, moto_cloudformation_types())
    parameters = {
        "ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/stockchat:rehearsal",
        "DomainName": "stockchat.example.com",
        "CertificateArn": certificate,
        "VpcId": vpc,
        "PublicSubnetIds": ",".join(subnets[:2]),
        "PrivateSubnetIds": ",".join(subnets[2:]),
        "CognitoDomainPrefix": "stockchat-rehearsal",
        "EnableCloudFront": "false",
        "SesIdentity": "example.com",
        "MailFrom": "stockchat <no-reply@example.com>",
    }
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(
        StackName="stockchat",
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    described = cloudformation.describe_stacks(StackName="stockchat")["Stacks"][0]
    return {"description": described, "skipped": skipped}


def outputs_of(stack) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack["description"].get("Outputs", [])}


def test_the_stack_is_created_and_only_the_listed_resources_are_left_to_a_real_account(stack):
    assert stack["description"]["StackStatus"] == "CREATE_COMPLETE"
    assert stack["skipped"] == NOT_REHEARSED
    guide = (ROOT / "docs/deploy.md").read_text()
    for kind in NOT_REHEARSED:
        assert f"`{kind}`" in guide, kind


def test_outputs_name_what_the_deploy_steps_use(stack):
    outputs = outputs_of(stack)
    for name in ("ClusterName", "ReleaseTaskDefinitionArn", "TaskSubnets", "TaskSecurityGroup", "LogGroupName"):
        assert outputs[name], name
    assert outputs["ImagePlatform"] == "linux/amd64"
    assert outputs["LogGroupName"] == "/ecs/stockchat"
    assert outputs["ReleaseTaskDefinitionArn"].split("/")[-1].startswith("stockchat-release:")


def task_definition(aws, family: str) -> dict:
    return aws("ecs").describe_task_definition(taskDefinition=family)["taskDefinition"]


def test_task_definitions_carry_their_environment_secrets_and_health_checks(aws, stack):
    web = task_definition(aws, "stockchat-web")
    feed = task_definition(aws, "stockchat-feed")
    release = task_definition(aws, "stockchat-release")
    web_c, feed_c, release_c = (d["containerDefinitions"][0] for d in (web, feed, release))
    web_env = {e["name"]: e["value"] for e in web_c["environment"]}
    assert web_env["STOCKCHAT_SUPERUSER_GROUPS"] == "admin"
    assert web_env["STOCKCHAT_STAFF_GROUPS"] == "staff"
    assert web_env["STOCKCHAT_EMAIL_BACKEND"] == "ses"
    assert web_env["DEFAULT_FROM_EMAIL"] == "stockchat <no-reply@example.com>"
    assert web_env["REDIS_URL"].startswith("rediss://")
    assert {s["name"] for s in web_c["secrets"]} == {
        "DJANGO_SECRET_KEY",
        "DATABASE_USER",
        "DATABASE_PASSWORD",
        "REDIS_PASSWORD",
        "COGNITO_CLIENT_SECRET",
    }
    assert {s["name"] for s in feed_c["secrets"]} == {
        "DJANGO_SECRET_KEY",
        "DATABASE_USER",
        "DATABASE_PASSWORD",
        "REDIS_PASSWORD",
    }
    assert {s["name"] for s in release_c["secrets"]} == {"DJANGO_SECRET_KEY", "DATABASE_USER", "DATABASE_PASSWORD"}
    release_env = {e["name"]: e["value"] for e in release_c["environment"]}
    assert release_env["STOCKCHAT_RELEASE_LISTING"] == "trading/data/listing.csv"
    for container in (web_c, feed_c):
        assert container["healthCheck"]["command"] == ["CMD", "python", "/app/docker/healthcheck.py"]
    assert release_c["command"] == ["release"]


def role_actions(aws, logical_id: str) -> set[str]:
    """Every action the role's inline policies allow (moto keeps no task role on a task definition)."""
    name = aws("cloudformation").describe_stack_resource(StackName="stockchat", LogicalResourceId=logical_id)[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    iam = aws("iam")
    actions: set[str] = set()
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):
            # moto keeps the document the stack gave it as Python's repr of a dict.
            document = ast.literal_eval(unquote(document))
        for statement in document["Statement"]:
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_each_process_has_its_own_least_privilege_role(aws, stack):
    web, feed, release = (role_actions(aws, name) for name in ("WebTaskRole", "FeedTaskRole", "ReleaseTaskRole"))
    exec_channels = {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }
    assert web == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "ses:SendEmail",
                   "ses:SendRawEmail"} | exec_channels  # fmt: skip
    assert feed == exec_channels
    assert release == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


def test_the_load_balancer_checks_liveness_and_the_feed_is_pinned_to_one(aws, stack):
    groups = aws("elbv2").describe_target_groups()["TargetGroups"]
    assert [g["HealthCheckPath"] for g in groups] == ["/healthz"]
    outputs = outputs_of(stack)
    services = aws("ecs").describe_services(
        cluster=outputs["ClusterName"], services=[outputs["WebServiceName"], outputs["FeedServiceName"]]
    )["services"]
    assert len(services) == 2
    feed = next(s for s in services if s["serviceName"] == outputs["FeedServiceName"])
    assert feed["desiredCount"] == 1


def test_deleting_the_stack_keeps_what_is_retained(aws, stack):
    outputs = outputs_of(stack)
    aws("cloudformation").delete_stack(StackName="stockchat")
    groups = aws("logs").describe_log_groups(logGroupNamePrefix="/ecs/stockchat")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/ecs/stockchat"]
    buckets = {b["Name"] for b in aws("s3").list_buckets()["Buckets"]}
    assert {outputs["MediaBucketName"], outputs["StaticBucketName"], outputs["AccessLogsBucketName"]} <= buckets
