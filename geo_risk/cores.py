"""Work spread over this machine's cores by forking, and the executor protocol.

A forked process inherits everything its parent holds, so a task needs only an index
sent to it, and only its result comes back: the household stages' districts, the
partners' extracts and the hot spot resamples run this way, a core each. Kept apart from
:mod:`geo_risk.inputs.parallel` (Dask, districts) so that pseudonymising imports nothing heavy.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["HERE", "Executor", "can_fork", "give_back_memory", "local_map",
           "this_machine"]


class Executor(Protocol):
    """Runs one function over many items, returning the results in order."""

    def map(self, fn: Callable, items: Sequence) -> list: ...

    def peak_memory(self) -> dict[str, float]: ...


class _Here:
    """Everything in this process, one item after another."""

    def map(self, fn: Callable, items: Sequence) -> list:
        return [fn(item) for item in items]

    def peak_memory(self) -> dict[str, float]:
        return {}


def can_fork() -> bool:
    """Whether this process may fork worker processes (a pool's own workers may not)."""
    return ("fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


_TASK: tuple[Callable, Sequence] | None = None


def _task(i: int):
    from threadpoolctl import threadpool_limits

    assert _TASK is not None, "a forked worker's task is set before the fork"
    fn, items = _TASK
    with threadpool_limits(1):  # the processes share the cores; OpenMP stays serial
        return fn(items[i])


class _Forked:
    """Items run ``workers`` at a time in processes forked from this one: each inherits
    the data it works on (nothing is sent to it) and sends back its result, one thread
    each. Where ``fork`` is missing, or with one core, everything runs here."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable, items: Sequence) -> list:
        global _TASK
        if len(items) < 2 or self.workers < 2 or not can_fork():
            return [fn(item) for item in items]
        _TASK = (fn, items)
        try:
            with multiprocessing.get_context("fork").Pool(min(self.workers, len(items))) as pool:
                return pool.map(_task, range(len(items)), chunksize=1)
        finally:
            _TASK = None

    def peak_memory(self) -> dict[str, float]:
        return {}


def this_machine() -> Executor:
    """This machine's cores (up to four); this process alone where ``fork`` is missing."""
    return _Forked(min(os.cpu_count() or 1, 4))


def local_map(fn: Callable, items: Sequence) -> list:
    """``fn`` of each item, in order, on this machine's cores (forked processes, which
    inherit what ``fn`` and the items refer to: nothing is sent to them but an index)."""
    return this_machine().map(fn, items)


def give_back_memory() -> None:
    """Return the heap's freed pages to the operating system (glibc's ``malloc_trim``;
    nothing elsewhere). Freeing large tables leaves the C heap holed, and the holes stay
    in the process's memory: after a county's synthetic extracts were written and
    dropped, about 0.2 GiB of them stayed through the whole run."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    gc.collect()
    libc.malloc_trim(0)


HERE = _Here()
