"""Where the shard workers run: in-process (``local``) or as Ray actors (``ray``).

A backend makes one :class:`~socialcredit.simulate.workers.ShardWorker` per shard and calls a
method on every worker at once (:meth:`Backend.call`, one argument tuple per shard), returning the
results in shard order. The local backend calls them one after the other in this process; the
Ray backend wraps the same class as a Ray actor (``ray.remote(ShardWorker)``), one per shard,
and waits for all of them: the shards of a day run in parallel, on one machine or a cluster.
The coordinator does the same thing with the results either way, so the outputs are the same
bytes.

Example:
    >>> b = LocalBackend([dict(x=1)], factory=lambda x: [x])
    >>> b.call("__len__", [()]), b.n
    ([1], 1)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from socialcredit.errors import SocialCreditError

__all__ = ["BACKENDS", "Backend", "LocalBackend", "RayBackend", "make_backend"]

BACKENDS = ("local", "ray")


class Backend:
    """The workers of a run and how to call them."""

    name = "?"
    n = 0

    def call(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``worker[s].method(*args[s])`` for every shard ``s``; the results in shard order."""
        raise NotImplementedError

    def call_all(self, method: str, *args: Any) -> list[Any]:
        """The same call with the same arguments on every worker."""
        return self.call(method, [args] * self.n)

    def close(self) -> None:
        """Let the workers go."""

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "shards": self.n}


class LocalBackend(Backend):
    """The workers in this process, called in turn."""

    name = "local"

    def __init__(self, kwargs: Sequence[dict[str, Any]], *, factory: Callable[..., Any]) -> None:
        self.workers = [factory(**kw) for kw in kwargs]
        self.n = len(self.workers)

    def call(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [getattr(w, method)(*a) for w, a in zip(self.workers, args, strict=True)]


class RayBackend(Backend):
    """One Ray actor per shard, on the cluster at ``address`` (``None``: a Ray instance already
    started in this process, or else a local one with ``workers`` CPUs). The actors ask for
    ``workers / shards`` CPUs each (at most one), so the shards spread over ``workers`` CPUs.
    ``shared`` names constructor arguments put once in the object store (the population)."""

    name = "ray"

    def __init__(
        self,
        kwargs: Sequence[dict[str, Any]],
        *,
        factory: Callable[..., Any],
        address: str | None = None,
        workers: int = 2,
        shared: Sequence[str] = ("population", "behaviour"),
    ) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise SocialCreditError("the ray backend needs Ray: pip install 'socialcredit[ray]'") from exc
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_DEDUP_LOGS", "0")
            if address:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            self.started = True
        self.workers_n, self.address = workers, address
        self.n = len(kwargs)
        refs = {k: ray.put(kwargs[0][k]) for k in shared if kwargs and k in kwargs[0]}
        cpus = min(1.0, workers / max(self.n, 1))
        actor = ray.remote(factory).options(num_cpus=cpus)
        self.actors = [actor.remote(**(kw | refs)) for kw in kwargs]

    def call(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        futures = [getattr(a, method).remote(*x) for a, x in zip(self.actors, args, strict=True)]
        return self.ray.get(futures)

    def close(self) -> None:
        """Kill the actors (Ray itself stays up for the next run; it stops with the process)."""
        for a in self.actors:
            self.ray.kill(a)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "shards": self.n, "workers": self.workers_n, "address": self.address}


def make_backend(
    name: str,
    kwargs: Sequence[dict[str, Any]],
    *,
    factory: Callable[..., Any],
    address: str | None = None,
    workers: int | None = None,
) -> Backend:
    """The backend ``name`` (``local`` or ``ray``) with one worker per entry of ``kwargs``."""
    if name == "local":
        return LocalBackend(kwargs, factory=factory)
    if name == "ray":
        return RayBackend(kwargs, factory=factory, address=address, workers=workers or 2)
    raise SocialCreditError(f"unknown backend {name!r}: use {', '.join(BACKENDS)}")
