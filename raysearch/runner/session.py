"""Where a sweep runs: the Ray it uses, and the environment Ray Tune reads while it runs.

Without `--address` and `RAY_ADDRESS`, a private embedded Ray starts and stops with the sweep,
even when another Ray runs on the machine (Ray's own default would join it). Once Tune is done
the sweep's epilogue (its test-set evaluation and report, which need no Ray) runs while Ray
shuts down (`RaySession.close_early`: most of Ray's shutdown is waiting, ~1 s, for its
processes to exit); whatever outlives Tune and calls Ray (a front-end's thread polling an
actor) is released first (`before_ray_shutdown`). An address that does not answer fails within
seconds, naming it. Tune reads a few settings from environment variables on the driver; they
are set for the duration of the sweep only and restored afterwards, so nothing leaks into the
user's process.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from raysearch.errors import ClusterError, SpecError
from raysearch.runner.warm_workers import (
    trial_actors_on_warm_workers,
    trial_modules,
    worker_environment,
    worker_threads,
)
from raysearch.types import Resources

DEFAULT_STORAGE = "runs"
PROBE_TIMEOUT_S = 10.0
TUNE_ENV = {
    # Ray saves experiment state every ~10 s by default; a driver killed before the first save
    # restarts its trials from scratch on resume. Save more often (the state is small).
    "TUNE_GLOBAL_CHECKPOINT_S": "2",
    # Our progress display and summary replace Tune's tables and banners.
    "RAY_AIR_NEW_OUTPUT": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    # SIGINT and SIGTERM are handled by raysearch.runner.interrupt (through Tune's own stop).
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
}
# What the driver imports once Ray answers (Tune; the TensorBoard writer, without torch):
# imported in the background while `ray.init` waits for Ray's processes (seconds). Not torch:
# the driver needs none before the first result (runner.trainable, runner.tensorboard), and on
# a small machine its import would compete with the workers' own (BENCHMARKS.md §8); nor
# Ray's logging integrations (mlflow with them: runner.callback_usage).
DRIVER_IMPORTS = ("ray.tune",)

# An embedded Ray's start (BENCHMARKS.md §8): its raylet connects to the object store it has
# just started in a thread, and when the store's socket is not there yet it sleeps Ray's retry
# delay, a whole second (`raylet_client_connect_timeout_milliseconds`), inside `ray.init`.
# Retry every 100 ms instead, as patiently as Ray's default (100 tries, 10 s). Ray reads its
# settings from `RAY_<name>` in every process it starts; a value the user set is kept.
EMBEDDED_RAY_ENV = {"RAY_raylet_client_connect_timeout_milliseconds": "100",
                    "RAY_raylet_client_num_connect_attempts": "100"}

# Ray's own start-up noise (token-authentication notice), shown with --verbose.
QUIET_LOGGERS = ("ray._private.authentication.authentication_token_setup",)


@dataclass(frozen=True)
class RunOptions:
    """Where and how to run: everything that is not the sweep itself."""

    address: str | None = None  # None: RAY_ADDRESS if set, else a private embedded Ray
    storage: str = DEFAULT_STORAGE
    name: str | None = None  # the sweep's name (run folder, header, report); default: spec's
    progress_every_s: float | None = 10.0  # None: quiet
    verbose: bool = False  # show trial stdout/stderr and Ray's own logs
    autoscaling: bool = False  # the cluster grows on demand: don't reject what it lacks now

    def __post_init__(self) -> None:
        """A pathlib.Path for `storage` is read as its str; a value of the wrong kind, or a
        `name` that is not one folder name (it names the run folder), is a SpecError naming
        it, before Ray starts."""
        from raysearch.results.storage import as_location
        from raysearch.spec.rules import name_problem

        object.__setattr__(self, "storage", as_location(self.storage, "storage"))
        for what in ("address", "name"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, str):
                raise SpecError(f"{what}: expected a str, got {type(value).__name__} {value!r}")
        if self.name and (problem := name_problem(self.name)):
            raise SpecError(problem)


@contextmanager
def scoped_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables (those the user has not set) for a block, then restore."""
    added = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _prefetch(modules: tuple[str, ...]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - optional; whoever needs it will say why it fails
            continue
    try:
        from raysearch.runner.tensorboard import import_tensorboardx

        import_tensorboardx()
    except Exception:  # noqa: BLE001 - the writer will say why, on the first result
        pass


def resolve_address(address: str | None) -> tuple[str, str]:
    """(address for ray.init, how the user gave it): --address, else RAY_ADDRESS, else
    "local" (a new private Ray, never an existing one)."""
    if address:
        return address, f"--address {address}"
    env = os.environ.get("RAY_ADDRESS")
    if env:
        return env, f"RAY_ADDRESS={env}"
    return "local", "an embedded local Ray"


def probe(address: str, where: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail fast, naming the address, when nothing listens there (Ray itself retries for
    minutes). "auto" and "local" are Ray's to resolve."""
    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"{where}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(f"{where}: no Ray cluster answers there ({reason}); check the "
                           f"address, start one with `ray start --head`, or drop it to run on "
                           f"an embedded local Ray") from None


class RaySession:
    """What `ray_session` yields: the Ray connection it made, if any, to close early."""

    def __init__(self, connected_here: bool):
        self.connected_here = connected_here
        self._closing: threading.Thread | None = None
        self._releases: list[Callable[[], None]] = []

    def _release(self) -> None:
        """Before Ray shuts down: run what `before_ray_shutdown` registered, newest first, each
        once; then free Ray objects in reference cycles (a Tuner's, a released thread's last
        exception), which Python's collector could otherwise free in any thread during the
        shutdown (Ray ends the process when it is called while it shuts down)."""
        while self._releases:
            release = self._releases.pop()
            try:
                release()
            except Exception:  # noqa: BLE001 - Ray shuts down regardless; say why with -v
                logging.getLogger(__name__).debug("releasing %r before Ray's shutdown",
                                                  release, exc_info=True)
        gc.collect()

    def close_early(self) -> None:
        """Ray is not needed any more (Tune has finished): a Ray connected or started here shuts
        down in the background while the driver goes on; the session's end waits for it."""
        if self.connected_here and self._closing is None:
            import ray

            self._release()
            self._closing = threading.Thread(target=ray.shutdown, name="raysearch-ray-shutdown")
            self._closing.start()

    def close(self) -> None:
        """Shut down a Ray connected or started here, or wait for `close_early`'s to finish."""
        if not self.connected_here:
            return
        if self._closing is None:
            import ray

            self._release()
            ray.shutdown()
        else:
            self._closing.join()


_current: RaySession | None = None  # while `ray_session` holds a Ray it connected or started


def before_ray_shutdown(release: Callable[[], None]) -> None:
    """Run `release` before the Ray this sweep started or connected to shuts down. Whatever
    calls Ray outside Tune (a thread polling an actor, an actor to kill) must stop first: Ray
    ends the whole process when it is called while it shuts down. On a Ray the caller owns
    (already initialised) nothing shuts down and nothing is run: the caller releases its own."""
    if _current is not None:
        _current._releases.append(release)


@contextmanager
def ray_session(options: RunOptions, trainable: object = None,
                resources: Resources | None = None) -> Iterator[RaySession]:
    """Use the Ray already initialised in this process (tests, notebooks), else connect to the
    given cluster or start a private embedded one; shut down only what was started here. An
    embedded Ray's workers are warmed for `trainable`'s trials, each asking for `resources`
    (runner.warm_workers)."""
    import ray

    if ray.is_initialized():
        with trial_actors_on_warm_workers():
            yield RaySession(connected_here=False)
        return
    address, where = resolve_address(options.address)
    probe(address, where)
    if not options.verbose:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
    embedded = address == "local" and trainable is not None
    resources = resources or Resources()
    modules = trial_modules(trainable, resources) if trainable is not None else []
    threading.Thread(target=_prefetch, args=(DRIVER_IMPORTS,), daemon=True).start()
    with ExitStack() as stack:
        if address == "local":
            stack.enter_context(scoped_environ(EMBEDDED_RAY_ENV))
        if embedded:
            stack.enter_context(scoped_environ(worker_environment(modules)))
        try:
            # Ray's processes keep the environment they start with: the threads variable only
            # for them, not for the driver's own torch (the test-set evaluation)
            with scoped_environ(worker_threads(resources) if embedded else {}):
                ray.init(address=address, include_dashboard=False,
                         log_to_driver=options.verbose,
                         logging_level=logging.INFO if options.verbose else logging.WARNING)
        except (ConnectionError, RuntimeError, TimeoutError, ValueError) as exc:
            last = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            raise ClusterError(f"{where}: cannot connect to Ray: {last}") from None
        session = RaySession(connected_here=True)
        try:
            stack.enter_context(trial_actors_on_warm_workers())
            with _as_current(session):
                yield session
        finally:
            session.close()


@contextmanager
def _as_current(session: RaySession) -> Iterator[RaySession]:
    global _current
    outer, _current = _current, session
    try:
        yield session
    finally:
        _current = outer
