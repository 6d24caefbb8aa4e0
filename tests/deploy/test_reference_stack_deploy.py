"""`audit deploy` against the seeded reference stack (terraform/stack's shape) on a moto server.

The stack has both colours: blue (`digitallync-core`, serving) and green (`digitallync-core-green`,
desired 0) behind the HTTPS listener's weighted default action. Discovery finds that action among the
HTTP redirect listener, a release goes through with the stack's green alarms as gates, and a second
deploy of the state's own task definition puts the stack back exactly as its state describes it
(including blue's autoscaling, suspended while blue is idle).
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from click.testing import CliRunner, Result

from auditor.aws import Aws, AwsSettings
from auditor.cli import cli
from auditor.demo.run import REGION, SeededStack, seed_reference_stack
from auditor.demo.seed_edge import NAME
from auditor.deploy.scaling import FLAGS

CLUSTER = "digitallync"
GREEN = f"{NAME}-green"
ALARMS = (f"{NAME}-target-5xx-green", f"{NAME}-unhealthy-hosts-green")


@pytest.fixture
def reference(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> tuple[Aws, SeededStack]:
    with urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=120):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    aws = Aws(AwsSettings(region=REGION, max_attempts=1))
    seeded = seed_reference_stack(aws)
    aws.client("dynamodb").create_table(TableName="auditor-deploy-leases", BillingMode="PAY_PER_REQUEST",
                                        KeySchema=[{"AttributeName": "LeaseID", "KeyType": "HASH"}],
                                        AttributeDefinitions=[{"AttributeName": "LeaseID", "AttributeType": "S"}])
    elb = aws.client("elbv2")
    for n, colour in enumerate(("blue", "green")):  # the tasks' addresses; moto reports them healthy
        elb.register_targets(TargetGroupArn=seeded.stack.ref(f"aws_lb_target_group.{colour}")["arn"],
                             Targets=[{"Id": f"10.0.{n}.{i + 10}", "Port": 3000} for i in range(2)])
    return aws, seeded


def _image(aws: Aws) -> str:
    repo = aws.client("ecr").describe_repositories(repositoryNames=[NAME])["repositories"][0]["repositoryUri"]
    aws.client("ecr").put_image(repositoryName=NAME, imageTag="1.1.0", imageManifest=json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": []}))
    return f"{repo}:1.1.0"


def _deploy(service: str, *release: str) -> Result:
    return CliRunner().invoke(cli, ["deploy", "--cluster", CLUSTER, "--service", service, *release, "--steps",
                                    "25,100", "--bake", "0s", "--poll", "0s", "--timeout", "2m", "--yes",
                                    "--format", "json", *(f"--alarm={a}" for a in ALARMS)])


def _services(aws: Aws) -> dict[str, tuple[int, str]]:
    found = aws.client("ecs").describe_services(cluster=CLUSTER, services=[NAME, GREEN])["services"]
    return {s["serviceName"]: (s["desiredCount"], s["taskDefinition"]) for s in found}


def _scaling_suspended(aws: Aws) -> dict[str, bool]:
    """Per service with a scalable target: whether all its scaling is suspended."""
    targets = aws.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    return {t["ResourceId"].rsplit("/", 1)[1]: all((t.get("SuspendedState") or {}).get(f) for f in FLAGS)
            for t in targets["ScalableTargets"]}


def test_a_release_and_its_return_on_the_reference_stack(reference: tuple[Aws, SeededStack]) -> None:
    aws, seeded = reference
    blue_tg = seeded.stack.ref("aws_lb_target_group.blue")["arn"]
    green_tg = seeded.stack.ref("aws_lb_target_group.green")["arn"]
    in_state = seeded.stack.ref("aws_ecs_task_definition.web_app")["arn"]

    shipped = _deploy(NAME, "--image", _image(aws))
    assert shipped.exit_code == 0, shipped.output
    outcome = json.loads(shipped.stdout)
    assert outcome["result"] == "succeeded" and outcome["way"] == "alb-weights"
    assert outcome["weights"] == {blue_tg: 0, green_tg: 100}
    assert outcome["services"]["green"] == {"service": GREEN, "target_group": green_tg, "desired": 2}
    assert outcome["services"]["blue"]["desired"] == 0
    release = outcome["task_definition"]
    assert release != in_state and _services(aws) == {NAME: (0, in_state), GREEN: (2, release)}
    assert _scaling_suspended(aws) == {NAME: True}  # idle now: its autoscaling must not bring it back to 2

    # The roles have swapped: the state's own revision goes back to digitallync-core, which then serves.
    back = _deploy(GREEN, "--task-definition", in_state)
    assert back.exit_code == 0, back.output
    outcome = json.loads(back.stdout)
    assert outcome["result"] == "succeeded"
    assert outcome["weights"] == {blue_tg: 100, green_tg: 0}
    assert outcome["services"]["green"] == {"service": NAME, "target_group": blue_tg, "desired": 2}
    assert _services(aws) == {NAME: (2, in_state), GREEN: (0, release)}
    assert _scaling_suspended(aws) == {NAME: False}  # serving again, autoscaled: as the state describes it


def test_the_redirect_listener_is_refused_and_nothing_changes(reference: tuple[Aws, SeededStack]) -> None:
    aws, seeded = reference
    https = seeded.stack.ref("aws_lb_listener.https")["arn"]
    before = (aws.client("elbv2").describe_listeners(ListenerArns=[https])["Listeners"], _services(aws))
    redirect = seeded.stack.ref("aws_lb_listener.http_redirect")["arn"]
    refused = _deploy(NAME, "--image", _image(aws), f"--listener={redirect}")
    assert refused.exit_code == 1
    assert "mixes forward with redirect; the ALB cannot weight it" in str(refused.exception)
    assert (aws.client("elbv2").describe_listeners(ListenerArns=[https])["Listeners"], _services(aws)) == before
