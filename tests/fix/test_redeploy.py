"""Redeploy through the blue/green deployer, on the deployer's moto setup (tests/deploy/bgstack.py): the route
the plan takes (two deploys from the serving colour, one from the idle one, one native deploy, skips with the
deployer's reason), both deploys applied and journalled, and a gate failure in either deploy."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from markupsafe import escape

from auditor.aws import Aws
from auditor.fix.apply import execute, verify
from auditor.fix.journal import Journal, remediation
from auditor.fix.model import Action, ActionKind, ActionResult, Plan, Verdict
from auditor.fix.planner import build_plan
from auditor.fix.redeploy import ALB, NATIVE, DeploySettings, redeploy_check, redeployer, route_check
from auditor.history import History
from auditor.models import AttributeChange, Drift, DriftKind
from auditor.report.html import render_report
from auditor.report.model import build
from tests.deploy import conftest as deployer
from tests.deploy import test_native as recorded
from tests.deploy.bgstack import (
    ALARM_5XX,
    BLUE,
    CLUSTER,
    FAMILY,
    GREEN,
    TS_SERVICE,
    FakeMetrics,
    Stack,
    desired,
    fake_seams,
    task_set_seams,
    task_sets,
    weights,
)
from tests.fix.test_planner import Run
from tests.report.sample import day_doc

_built, aws, stack, history, external = (deployer._built, deployer.aws, deployer.stack, deployer.history,  # its
                                         deployer.external)  # fixtures
native = recorded.native  # ECS native blue/green with recorded answers

STATE = "s3://state/web.tfstate"


def _service_arn(aws: Aws, service: str) -> str:
    return str(aws.client("ecs").describe_services(cluster=CLUSTER, services=[service])["services"][0]["serviceArn"])


def _revision(aws: Aws, stack: Stack, image: str | None = None) -> str:
    """A new revision of the family (what someone deployed by hand), by default with the same image."""
    base = aws.client("ecs").describe_task_definition(taskDefinition=stack.task_definition)["taskDefinition"]
    containers = [{**c, "image": image or c["image"]} for c in base["containerDefinitions"]]
    return str(aws.client("ecs").register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=containers)["taskDefinition"]["taskDefinitionArn"])


def _drifted(aws: Aws, stack: Stack, service: str, state_revision: str | None = None) -> Drift:
    """`service` moved to a hand-made revision; the state still says `state_revision` (default: the stack's)."""
    wanted = state_revision or stack.task_definition
    live = _revision(aws, stack)
    aws.client("ecs").update_service(cluster=CLUSTER, service=service, taskDefinition=live)
    return Drift("aws_ecs_service", _service_arn(aws, service), DriftKind.CHANGED, f"aws_ecs_service.{service}",
                 stack.region, (AttributeChange("task_definition", wanted, live),), (STATE,),
                 state_attributes={"cluster": CLUSTER, "name": service, "task_definition": wanted,
                                   "desired_count": desired(aws, service)})


def _task_definition(aws: Aws, service: str) -> str:
    return str(aws.client("ecs").describe_services(cluster=CLUSTER, services=[service])["services"][0]
               ["taskDefinition"])


def _settings(aws: Aws, stack: Stack, rate: Any = None) -> DeploySettings:
    seams = fake_seams(aws, stack, startup=0.0)
    if rate is not None:
        seams["metrics"].rate = rate
    return DeploySettings(bake_seconds=30.0, timeout_seconds=600.0, seams=seams)


def _plan(aws: Aws, drift: Drift, settings: DeploySettings) -> Plan:
    return build_plan(Run((drift,)), (), lambda _: None, redeploy_check(aws, settings))  # type: ignore[arg-type]


def _action(aws: Aws, drift: Drift, settings: DeploySettings) -> Action:
    [action] = _plan(aws, drift, settings).actions
    return action


def _apply(aws: Aws, history: History, plan: Plan, settings: DeploySettings) -> tuple[list[ActionResult], Journal]:
    journal = Journal(history)
    journal.write("plan", plan=plan.as_json(), config={}, run_id=None)
    results = execute(plan, aws, journal, redeployer(aws, history, settings))
    return results, journal


def _in_sync(drift: Drift) -> Drift:
    """What the verifying audit reports once the service is back on the state's revision."""
    return Drift(drift.type, drift.id, DriftKind.IN_SYNC, drift.address, drift.region, states=drift.states)


# --- the plan ----------------------------------------------------------------------------------------------


def test_the_serving_colour_is_redeployed_by_two_deploys(aws: Aws, stack: Stack) -> None:
    action = _action(aws, _drifted(aws, stack, BLUE), _settings(aws, stack))
    assert action.kind is ActionKind.REDEPLOY
    assert action.deploy == {"cluster": CLUSTER, "service": BLUE, "task_definition": stack.task_definition,
                             "way": ALB, "onto": [GREEN, BLUE], "other": GREEN}
    assert f"two deploys: onto {GREEN}, the idle colour" in action.summary
    assert "ecs:RegisterTaskDefinition" not in action.permissions


def test_the_idle_colour_is_redeployed_by_one_deploy(aws: Aws, stack: Stack) -> None:
    action = _action(aws, _drifted(aws, stack, GREEN), _settings(aws, stack))
    assert action.deploy is not None and (action.deploy["onto"], action.deploy["other"]) == ([GREEN], BLUE)


def test_a_native_blue_green_service_is_one_native_deploy(aws: Aws, stack: Stack) -> None:
    drift = _drifted(aws, stack, BLUE)
    ecs = aws.client("ecs")
    ecs.update_service(cluster=CLUSTER, service=BLUE, deploymentConfiguration={
        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5, "maximumPercent": 200, "minimumHealthyPercent": 100})
    try:
        action = _action(aws, drift, _settings(aws, stack))
    finally:
        ecs.update_service(cluster=CLUSTER, service=BLUE, deploymentConfiguration={"strategy": "ROLLING"})
    assert action.kind is ActionKind.REDEPLOY
    assert action.deploy is not None and (action.deploy["way"], action.deploy["onto"]) == (NATIVE, [BLUE])
    assert "one ECS native blue/green deploy" in action.summary


def test_a_revision_the_deployer_would_register_anew_is_skipped(aws: Aws, stack: Stack) -> None:
    tagged = _revision(aws, stack, image=stack.image("v1"))  # the same image, by tag
    action = _action(aws, _drifted(aws, stack, BLUE, state_revision=tagged), _settings(aws, stack))
    assert action.kind is ActionKind.SKIP
    assert f"instead of running the state's {tagged} as is" in action.summary
    assert "a fix never creates a revision the state does not know" in action.summary
    assert action.command == f"terraform apply -target='aws_ecs_service.{BLUE}'"


def test_a_service_outside_any_blue_green_setup_is_skipped_with_the_deployers_reason(aws: Aws, stack: Stack) -> None:
    ecs = aws.client("ecs")
    arn = ecs.create_service(cluster=CLUSTER, serviceName="worker", taskDefinition=stack.task_definition,
                             desiredCount=1, launchType="FARGATE")["service"]["serviceArn"]
    try:
        live = _revision(aws, stack)
        drift = Drift("aws_ecs_service", arn, DriftKind.CHANGED, "aws_ecs_service.worker", stack.region,
                      (AttributeChange("task_definition", stack.task_definition, live),), (STATE,),
                      state_attributes={"cluster": CLUSTER, "name": "worker",
                                        "task_definition": stack.task_definition})
        action = _action(aws, drift, _settings(aws, stack))
    finally:
        ecs.delete_service(cluster=CLUSTER, service="worker", force=True)
    assert action.kind is ActionKind.SKIP
    assert action.summary == ("task_definition is not redeployed: the blue/green deployer refuses it: service worker "
                              "is registered with 0 target groups; the ALB-weights deploy needs exactly one per colour")
    assert weights(aws, stack) == {"blue": 100, "green": 0}


def test_an_external_controller_service_is_skipped_with_the_deploy_to_run(aws: Aws, stack: Stack,
                                                                          external: str) -> None:
    """Its colours are task sets of one service: its revision is the primary task set's (aws_ecs_task_set)."""
    arn = aws.client("ecs").describe_services(cluster=CLUSTER, services=[TS_SERVICE])["services"][0]["serviceArn"]
    drift = Drift("aws_ecs_service", arn, DriftKind.CHANGED, f"aws_ecs_service.{TS_SERVICE}", stack.region,
                  (AttributeChange("task_definition", stack.task_definition, _revision(aws, stack)),), (STATE,),
                  state_attributes={"cluster": CLUSTER, "name": TS_SERVICE, "task_definition": stack.task_definition})
    action = _action(aws, drift, replace(_settings(aws, stack), seams=task_set_seams(aws, stack)))
    assert action.kind is ActionKind.SKIP
    assert action.summary.startswith(f"task_definition is not redeployed: {TS_SERVICE} has an EXTERNAL deployment "
                                     "controller: its revision is that of its primary task set")
    assert f"audit deploy --cluster {CLUSTER} --service {TS_SERVICE} --task-definition" in action.summary
    assert [s["taskSetArn"] for s in task_sets(aws)] == [external]  # nothing changed


# --- applying ----------------------------------------------------------------------------------------------


def test_both_deploys_put_the_service_back_serving_on_the_states_revision(aws: Aws, stack: Stack,
                                                                          history: History) -> None:
    drift = _drifted(aws, stack, BLUE)
    settings = _settings(aws, stack)
    plan = _plan(aws, drift, settings)
    results, journal = _apply(aws, history, plan, settings)
    assert [(r.verdict, r.detail) for r in results] == [(Verdict.NOT_RUN, "redeployed; not yet verified")]
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
    assert _task_definition(aws, BLUE) == _task_definition(aws, GREEN) == stack.task_definition
    [verdict] = verify(plan, results, [_in_sync(drift)], route_check(aws))
    assert verdict.verdict is Verdict.VERIFIED, verdict.detail
    deploys = [e for e in journal.entries() if e["event"] == "deployed"]
    assert [(e["step"], e["result"]) for e in deploys] == [(1, "succeeded"), (2, "succeeded")]
    for entry, onto in zip(deploys, (GREEN, BLUE), strict=True):  # each deploy's own journal, linked by id
        own = history.read_journal(entry["deploy_id"])
        assert own[0]["request"]["green_service"] == onto
        assert own[-1]["event"] == "outcome" and own[-1]["result"] == "succeeded"
    assert [(d["onto"], d["result"]) for d in remediation(journal.entries())["actions"][0]["deploys"]] == [
        (GREEN, "succeeded"), (BLUE, "succeeded")]


def test_a_gate_failure_in_the_first_deploy_leaves_things_as_they_were(aws: Aws, stack: Stack,
                                                                       history: History) -> None:
    drift = _drifted(aws, stack, BLUE)
    drifted = _task_definition(aws, BLUE)
    settings = _settings(aws, stack, rate=lambda tg, _now: 0.5 if tg == stack.green_tg else 0.0)
    plan = _plan(aws, drift, settings)
    [result], journal = _apply(aws, history, plan, settings)
    assert result.verdict is Verdict.FAILED
    assert result.detail.startswith(f"deploy 1 of 2 (the state's revision onto {GREEN}) rolled back (gate 5xx failed")
    assert result.detail.endswith(f"; {BLUE} still serves on its drifted revision")
    assert f"now {BLUE} 100% of the traffic, desired 2; {GREEN} 0% of the traffic, desired 0" in result.detail
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN), _task_definition(aws, BLUE)) == (2, 0, drifted)
    assert [e["step"] for e in journal.entries() if e["event"] == "deploy"] == [1]  # the second never started
    [verdict] = verify(plan, [result], [drift], route_check(aws))
    assert verdict == result


def test_the_deploy_settings_of_audit_toml_gate_a_fixs_deploys(aws: Aws, stack: Stack, history: History) -> None:
    """[deploy] alarms (and lease table, steps...) apply to the deploys of a fix; its per-service settings
    (cluster, service, overrides) do not. A named alarm in ALARM stops the first deploy before it starts."""
    configured = {"alarms": (ALARM_5XX,), "steps": (50, 100), "cluster": "elsewhere", "service": "other"}
    settings = replace(_settings(aws, stack), configured=configured)
    request = settings.request({"cluster": CLUSTER, "service": BLUE, "task_definition": stack.task_definition})
    assert (request.cluster, request.service, request.alarms, request.steps) == (CLUSTER, BLUE, (ALARM_5XX,), (50, 100))
    drift = _drifted(aws, stack, BLUE)
    drifted = _task_definition(aws, BLUE)
    plan = _plan(aws, drift, settings)
    aws.client("cloudwatch").set_alarm_state(AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="5xx on green")
    [result], _ = _apply(aws, history, plan, settings)
    assert result.verdict is Verdict.FAILED
    assert result.detail.startswith(f"deploy 1 of 2 (the state's revision onto {GREEN}) was refused: blue is not "
                                    f"sound before the deploy: gate alarms: in ALARM: {ALARM_5XX}")
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert _task_definition(aws, BLUE) == drifted


def test_a_gate_failure_in_the_second_deploy_leaves_the_other_colour_serving_the_states_revision(
        aws: Aws, stack: Stack, history: History) -> None:
    drift = _drifted(aws, stack, BLUE)
    settings = _settings(aws, stack, rate=lambda tg, _now: 0.5 if tg == stack.blue_tg else 0.0)
    plan = _plan(aws, drift, settings)
    [result], journal = _apply(aws, history, plan, settings)
    assert result.verdict is Verdict.FAILED
    assert result.detail.startswith(f"deploy 2 of 2 (the state's revision onto {BLUE}) rolled back (gate 5xx failed")
    assert result.detail.endswith(f"; traffic stays on {GREEN}, which runs the state's revision "
                                  f"{stack.task_definition}; {BLUE} does not serve")
    assert weights(aws, stack) == {"blue": 0, "green": 100}
    assert (desired(aws, BLUE), desired(aws, GREEN), _task_definition(aws, GREEN)) == (0, 2, stack.task_definition)
    section = remediation([*journal.entries(), {"event": "failed", "action": 0, "detail": result.detail}])
    assert [(d["step"], d["result"]) for d in section["actions"][0]["deploys"]] == [(1, "succeeded"),
                                                                                    (2, "rolled_back")]
    assert section["actions"][0]["outcome"] == {"verdict": "failed", "detail": result.detail}
    page = render_report(replace(build(day_doc(1)), remediations=({"journal_id": journal.id, **section},)))
    shown = page.split('<section id="remediation"', 1)[1].split("</section>", 1)[0]
    assert f"Fix <code>{journal.id}</code>: unfinished" in shown
    assert '<td class="bad">failed</td>' in shown and str(escape(result.detail)) in shown
    assert f'deploy 2 of 2 onto <code>{BLUE}</code>: <span class="bad">rolled back</span>' in shown


def test_a_resumed_redeploy_skips_the_deploy_that_succeeded(aws: Aws, stack: Stack, history: History) -> None:
    drift = _drifted(aws, stack, BLUE)
    fail_second = _settings(aws, stack, rate=lambda tg, _now: 0.5 if tg == stack.blue_tg else 0.0)
    plan = _plan(aws, drift, fail_second)
    _, journal = _apply(aws, history, plan, fail_second)
    results = execute(plan, aws, journal, redeployer(aws, history, _settings(aws, stack)))
    assert [r.verdict for r in results] == [Verdict.NOT_RUN]
    assert [e["step"] for e in journal.entries() if e["event"] == "deploy"] == [1, 2, 2]
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert verify(plan, results, [_in_sync(drift)], route_check(aws))[0].verdict is Verdict.VERIFIED


def test_verification_fails_when_the_other_colour_still_serves(aws: Aws, stack: Stack) -> None:
    drift = _drifted(aws, stack, BLUE)
    plan = _plan(aws, drift, _settings(aws, stack))
    aws.client("ecs").update_service(cluster=CLUSTER, service=BLUE, taskDefinition=stack.task_definition)
    aws.client("ecs").update_service(cluster=CLUSTER, service=GREEN, taskDefinition=stack.task_definition,
                                     desiredCount=2)
    aws.client("elbv2").modify_listener(ListenerArn=stack.listener, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": stack.blue_tg, "Weight": 0}, {"TargetGroupArn": stack.green_tg, "Weight": 100}]}}])
    [verdict] = verify(plan, [ActionResult(0, Verdict.NOT_RUN)], [_in_sync(drift)], route_check(aws))
    assert verdict.verdict is Verdict.FAILED
    assert verdict.detail == (f"redeployed, but the listener sends the traffic to {GREEN}; {GREEN} still has desired "
                              "count 2")


def test_a_count_that_drifted_too_keeps_the_action_unverified(aws: Aws, stack: Stack, history: History) -> None:
    drift = _drifted(aws, stack, BLUE)
    aws.client("ecs").update_service(cluster=CLUSTER, service=BLUE, desiredCount=3)
    both = Drift(drift.type, drift.id, DriftKind.CHANGED, drift.address, drift.region,
                 (*drift.changes, AttributeChange("desired_count", 2, 3)), drift.states,
                 state_attributes={**(drift.state_attributes or {}), "desired_count": 2})
    settings = _settings(aws, stack)
    plan = _plan(aws, both, settings)
    assert plan.actions[0].kind is ActionKind.REDEPLOY and "desired_count also drifted" in plan.actions[0].summary
    results, _ = _apply(aws, history, plan, settings)
    assert (desired(aws, BLUE), _task_definition(aws, BLUE)) == (3, stack.task_definition)  # the live count kept
    after = Drift(drift.type, drift.id, DriftKind.CHANGED, drift.address, drift.region,
                  (AttributeChange("desired_count", 2, 3),), drift.states)
    [verdict] = verify(plan, results, [after], route_check(aws))
    assert (verdict.verdict, verdict.detail) == (Verdict.FAILED, "drift remains: desired_count")


def test_a_native_redeploy_is_one_deploy_of_the_same_service(native: Any) -> None:
    """With recorded ECS answers (tests/deploy/test_native.py: moto has no service-deployment APIs): the state's
    revision as is (no RegisterTaskDefinition), one UpdateService through the deployer, followed to success."""
    aws, ecs, clock, store = native
    ecs.add_response("update_service", {"service": {"serviceArn": recorded.SERVICE_ARN}},
                     {"cluster": "shop", "service": "web", "taskDefinition": recorded.TD1})
    ecs.add_response("list_service_deployments", {"serviceDeployments": [{
        "serviceDeploymentArn": recorded.DEPLOYMENT, "serviceArn": recorded.SERVICE_ARN,
        "clusterArn": recorded.CLUSTER_ARN, "status": "PENDING"}]},
        {"cluster": "shop", "service": "web", "status": ["PENDING", "IN_PROGRESS"]})
    recorded._described(ecs, "SUCCESSFUL", "CLEAN_UP")
    action = Action(ActionKind.REDEPLOY, "changed", "aws_ecs_service", recorded.SERVICE_ARN, "aws_ecs_service.web",
                    "us-east-1", STATE, "redeploy", deploy={"cluster": "shop", "service": "web",
                                                            "task_definition": recorded.TD1, "way": NATIVE,
                                                            "onto": ["web"], "other": None})
    journal = Journal(store)
    settings = DeploySettings(0.0, 1800.0, {"clock": clock, "health": None, "metrics": FakeMetrics(clock)})
    assert redeployer(aws, store, settings)(0, action, journal) is None
    [deployed] = [e for e in journal.entries() if e["event"] == "deployed"]
    assert (deployed["step"], deployed["result"]) == (1, "succeeded")
    own = store.read_journal(deployed["deploy_id"])
    assert [e["task_definition"] for e in own if e["event"] == "registered"] == [recorded.TD1]
