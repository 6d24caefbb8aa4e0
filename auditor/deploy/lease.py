"""One deploy per service at a time: a lease item in DynamoDB.

Taken with a conditional put (free, expired, or already this deploy's), long enough for the whole deploy,
released (conditional delete on the owner) in `finally`.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from dataclasses import dataclass
from typing import Any

from auditor.aws import Aws, describe_error, error_code
from auditor.deploy.model import AWS_ERRORS, DeployError, LeaseHeld

KEY = "LeaseID"
RELEASE_ATTEMPTS = 3


def default_owner() -> str:
    """user@host pid N: who holds a lease, as a refused deploy reports it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    key: str
    owner: str
    deploy_id: str
    expires: float


class Lease:
    """The lease on `key` in `table`, for one deploy."""

    def __init__(self, aws: Aws, table: str, key: str, owner: str, deploy_id: str) -> None:
        self._ddb = aws.client("dynamodb")
        self.table, self.key, self.owner, self.deploy_id = table, key, owner, deploy_id
        self.held = False

    def acquire(self, now: float, seconds: float, take_over: str | None = None) -> None:
        """Take the lease for `seconds`; `take_over`: a deploy id whose holder may be replaced unless it is a
        live process on this host (--resume/--rollback of a deploy whose process died)."""
        condition = f"attribute_not_exists({KEY}) OR expires_at < :now"
        values: dict[str, Any] = {":now": {"N": _n(now)}}
        if take_over:
            holder = self.holder()
            if holder and holder.deploy_id == take_over and holder.expires >= now and _running_here(holder.owner):
                raise LeaseHeld(f"deploy {take_over} is still running: {holder.owner}",
                                "stop that process first (SIGTERM rolls it back)")
            condition += " OR deploy_id = :prior"
            values[":prior"] = {"S": take_over}
        self._put(now, seconds, condition, values)
        self.held = True

    def release(self) -> str | None:
        """Delete the lease (tried RELEASE_ATTEMPTS times); None, or why it is left to expire."""
        problem = None
        for _ in range(RELEASE_ATTEMPTS if self.held else 0):
            try:
                self._ddb.delete_item(TableName=self.table, Key={KEY: {"S": self.key}},
                                      ConditionExpression="holder = :me AND deploy_id = :id",
                                      ExpressionAttributeValues={":me": {"S": self.owner},
                                                                 ":id": {"S": self.deploy_id}})
            except AWS_ERRORS as exc:
                if error_code(exc) != "ConditionalCheckFailedException":  # else: no longer ours
                    problem = f"the lease {self.key} in {self.table} could not be released ({describe_error(exc)}); " \
                              "it expires on its own"
                    continue
            self.held, problem = False, None
            break
        return problem

    def holder(self) -> LeaseInfo | None:
        try:
            item = self._ddb.get_item(TableName=self.table, Key={KEY: {"S": self.key}}, ConsistentRead=True).get("Item")
        except AWS_ERRORS as exc:
            raise self._unreadable(exc) from None
        if not item:
            return None
        return LeaseInfo(self.key, item.get("holder", {}).get("S", "?"), item.get("deploy_id", {}).get("S", "?"),
                         float(item.get("expires_at", {}).get("N", "0")))

    def _put(self, now: float, seconds: float, condition: str, values: dict[str, Any]) -> None:
        item = {KEY: {"S": self.key}, "holder": {"S": self.owner}, "deploy_id": {"S": self.deploy_id},
                "expires_at": {"N": _n(now + seconds)}}
        try:
            self._ddb.put_item(TableName=self.table, Item=item, ConditionExpression=condition,
                               ExpressionAttributeValues=values)
        except AWS_ERRORS as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise self._unreadable(exc) from None
            holder = self.holder()
            who = f"{holder.owner} (deploy {holder.deploy_id})" if holder else "another deploy"
            raise LeaseHeld(f"{self.key} is being deployed by {who}",
                            f"wait for it, or `audit deploy --resume/--rollback {holder.deploy_id}` if its "
                            "process died" if holder else None) from None

    def _unreadable(self, exc: BaseException) -> DeployError:
        hint = ("create it with terraform/auditor or pass --lease-table"
                if error_code(exc) == "ResourceNotFoundException" else None)
        return DeployError(f"cannot use the deploy lease table {self.table}: {describe_error(exc)}", hint)


def _running_here(owner: str) -> bool:
    """Whether `owner` (user@host pid N) is a live process on this host."""
    match = re.search(r"@(?P<host>\S+) pid (?P<pid>\d+)$", owner)
    if not match or match["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _n(value: float) -> str:
    return str(int(value))
