"""Run the collectors for every (region, type) pair, concurrently, failing closed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from auditor.aws import AWS_ERRORS, Aws, describe_error
from auditor.catalog import canonical_type
from auditor.inventory.base import CollectContext, registry
from auditor.models import Inventory, Observation, ObservationStatus, Resource

log = logging.getLogger(__name__)

_UNOBSERVABLE: tuple[type[Exception], ...] = (*AWS_ERRORS, NotImplementedError)

ProgressFn = Callable[[int, int], None]
"""progress(done, total): called as each (region, type) job finishes."""


def collect_inventory(
    aws: Aws,
    regions: Iterable[str],
    types: Iterable[str],
    account_id: str,
    wanted: Mapping[str, Mapping[str, frozenset[str]]] | None = None,
    state_attributes: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    *,
    global_region: str | None = None,
    workers: int = 8,
    progress: ProgressFn | None = None,
) -> Inventory:
    """Collect `types` in every region. An error observing a type makes it UNKNOWN there.

    `wanted[region][type]` = import ids that states hold (see CollectContext.wanted);
    `state_attributes[(type, id)]` = what the state says of them. Global types (IAM) are
    collected once, in `global_region` (default: the first region).
    """
    collectors = registry()
    type_list = sorted({canonical_type(t) for t in types} & collectors.keys())
    wanted = wanted or {}
    contexts = {r: CollectContext(aws, r, account_id, wanted.get(r, {}), state_attributes)
                for r in sorted(set(regions))}
    home = global_region if global_region in contexts else next(iter(contexts), None)
    jobs = [(region, t) for region in contexts for t in type_list
            if not collectors[t].spec.global_service or region == home]

    done = 0
    done_lock = threading.Lock()

    def run(job: tuple[str, str]) -> tuple[list[Resource], Observation]:
        nonlocal done
        region, tf_type = job
        try:
            found = list(collectors[tf_type].collect(contexts[region]))
            obs = Observation(tf_type, region, ObservationStatus.OBSERVED, len(found))
        # NotImplementedError: what an endpoint that lacks the call (in-process moto) raises; unknown, not empty
        except _UNOBSERVABLE as exc:
            found, obs = [], Observation(tf_type, region, ObservationStatus.UNKNOWN,
                                         reason=describe_error(exc))
        except Exception as exc:  # a converter bug must not pass for "nothing there"
            log.exception("collector %s failed in %s", tf_type, region)
            found, obs = [], Observation(tf_type, region, ObservationStatus.UNKNOWN,
                                         reason=f"internal error reading {tf_type}: {type(exc).__name__}: {exc}")
        if progress:
            with done_lock:
                done += 1
                progress(done, len(jobs))
        return found, obs

    resources: list[Resource] = []
    observations: list[Observation] = []
    # started with the types most held in state (their per-resource calls are the long poles),
    # gathered in type order
    started = sorted(jobs, key=lambda job: -len(wanted.get(job[0], {}).get(job[1], ())))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {job: pool.submit(run, job) for job in started}
        for job in jobs:
            found, obs = futures[job].result()
            resources.extend(found)
            observations.append(obs)
    return Inventory(
        resources=tuple(resources),
        observations=tuple(observations),
        api_calls=aws.counter.total,
        api_calls_by_operation=aws.counter.snapshot(),
    )
