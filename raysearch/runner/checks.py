"""Checks made before any trial starts: where the run folder goes (before Ray starts), then
against the live Ray cluster."""

from __future__ import annotations

import os
import tempfile

from raysearch.errors import ClusterError, SpecError
from raysearch.results import SPEC_FILE, storage
from raysearch.spec import Sweep


def check_storage_writable(location: str) -> None:
    """A local `storage` where a run folder can be made, checked before Ray starts (a file in
    the way, a folder that cannot be written, a path under /proc): a probe folder is made and
    removed in the nearest folder that exists, so nothing is left behind. URIs (s3://...) are
    the cluster's to reach."""
    if storage.is_uri(location):
        return
    path = os.path.abspath(os.path.expanduser(location))
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise SpecError(f"--storage {location}: {existing} is a file, not a folder; give a "
                        f"folder for the run folders")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".raysearch-probe-", dir=existing))
    except OSError as exc:
        raise SpecError(f"--storage {location}: cannot make a folder in {existing} "
                        f"({exc.strerror or exc}); give a folder you can write to") from None


def check_resources(sweep: Sweep, autoscaling: bool) -> None:
    """A trial the cluster can never place would pend forever: say so now instead (unless the
    cluster autoscales, when nodes with those resources may yet come)."""
    import ray

    if autoscaling:
        return
    total = ray.cluster_resources()
    wanted = {"CPU": sweep.resources.cpu, "GPU": sweep.resources.gpu}
    problems = []
    for kind, amount in wanted.items():
        have = total.get(kind, 0)
        if amount > have:
            problems.append(f"resources.{kind.lower()}: each trial asks for {amount:g} {kind}, "
                            f"but the Ray cluster has {have:g} in all; lower it, connect to a "
                            f"bigger cluster with --address, or pass --autoscaling if the "
                            f"cluster adds nodes on demand")
    if problems:
        raise ClusterError(problems)


def check_storage_visible(run_dir: str) -> None:
    """On a multi-node cluster every node must reach the run folder (checkpoints written on
    one node are restored on another): check that each node sees the spec.yaml written there."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if storage.is_uri(run_dir):
        return  # s3://, gs://, ...: reachable from every node by construction
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if len(nodes) < 2:
        return
    probe = ray.remote(num_cpus=0)(os.path.exists)
    marker = storage.join(run_dir, SPEC_FILE)
    seen = ray.get([probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
        n["NodeID"], soft=False)).remote(marker) for n in nodes])
    blind = [n["NodeManagerAddress"] for n, ok in zip(nodes, seen, strict=True) if not ok]
    if blind:
        raise ClusterError(f"--storage {os.path.dirname(run_dir)}: node(s) {', '.join(blind)} "
                           f"cannot see this folder, so trials could not restore checkpoints "
                           f"there; use a shared filesystem path or a URI such as "
                           f"s3://bucket/raysearch")
