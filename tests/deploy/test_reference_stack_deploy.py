"""`audit deploy` against the seeded reference stack (terraform/stack's shape) on a moto server.

The stack has one service behind the blue target group: the deploy is refused until the idle
colour's service exists; with it, discovery finds the HTTPS listener's weighted default action
(among the HTTP redirect listener) and the release goes through with the stack's green alarms.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from click.testing import CliRunner

from auditor.aws import Aws, AwsSettings
from auditor.cli import cli
from auditor.demo.run import REGION, seed_reference_stack
from auditor.demo.seed_edge import CONTAINER, NAME

CLUSTER = "digitallync"
GREEN = f"{NAME}-green"
ALARMS = (f"{NAME}-target-5xx-green", f"{NAME}-unhealthy-hosts-green")


@pytest.fixture
def reference(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Aws:
    with urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=120):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    aws = Aws(AwsSettings(region=REGION, max_attempts=1))
    seed_reference_stack(aws)
    aws.client("dynamodb").create_table(TableName="auditor-deploy-leases", BillingMode="PAY_PER_REQUEST",
                                        KeySchema=[{"AttributeName": "LeaseID", "KeyType": "HASH"}],
                                        AttributeDefinitions=[{"AttributeName": "LeaseID", "AttributeType": "S"}])
    return aws


def _image(aws: Aws) -> str:
    repo = aws.client("ecr").describe_repositories(repositoryNames=[NAME])["repositories"][0]["repositoryUri"]
    aws.client("ecr").put_image(repositoryName=NAME, imageTag="1.1.0", imageManifest=json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": []}))
    return f"{repo}:1.1.0"


def test_deploy_on_the_reference_stack(reference: Aws) -> None:
    aws = reference
    image = _image(aws)
    args = ["deploy", "--cluster", CLUSTER, "--service", NAME, "--image", image, "--steps", "25,100", "--bake", "0s",
            "--poll", "0s", "--timeout", "2m", "--yes", "--format", "json", *(f"--alarm={a}" for a in ALARMS)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0
    assert "no service in cluster digitallync is registered with the green target group digitallync-green" \
        in str(refused.exception)
    ecs, elb = aws.client("ecs"), aws.client("elbv2")
    blue = ecs.describe_services(cluster=CLUSTER, services=[NAME])["services"][0]
    tgs = {g["TargetGroupName"]: g["TargetGroupArn"] for g in elb.describe_target_groups()["TargetGroups"]}
    ecs.create_service(cluster=CLUSTER, serviceName=GREEN, taskDefinition=blue["taskDefinition"], desiredCount=0,
                       launchType="FARGATE", networkConfiguration=blue["networkConfiguration"],
                       loadBalancers=[{"targetGroupArn": tgs["digitallync-green"], "containerName": CONTAINER,
                                       "containerPort": 3000}])
    for n, colour in enumerate(("blue", "green")):  # the tasks' addresses; moto reports them healthy
        elb.register_targets(TargetGroupArn=tgs[f"digitallync-{colour}"],
                             Targets=[{"Id": f"10.0.{n}.{i + 10}", "Port": 3000} for i in range(2)])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "succeeded"
    assert outcome["weights"] == {tgs["digitallync-blue"]: 0, tgs["digitallync-green"]: 100}
    assert outcome["services"]["green"]["service"] == GREEN and outcome["services"]["green"]["desired"] == 2
    assert outcome["services"]["blue"]["desired"] == 0
