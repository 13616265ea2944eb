"""The household stages split by local authority district, run in this process or on Dask.

A county or a region is a set of districts, and what geo-risk computes for a household
depends on its own records, its output area and its district, never on another
district's households. So the heaviest household work (each household's features at
every date it is described, and scoring every child) can run district by district on
workers of a :mod:`dask.distributed` cluster, and the results, gathered in the original
order, are the same figures the single process computes. Linking stays in one place
(the gazetteer join is what tells each record's district), and pseudonymisation on the
machine that holds the key, as each partner runs it at source: the key is never sent
to a worker. The
model is fitted once on every district's labelled children, and the areas and hotspots
run on the gathered area table.

:class:`DaskSettings` says where to run: ``workers`` local processes (a ``LocalCluster``,
one thread each) or the ``scheduler`` address of a cluster that is already running.
Without it, a run forks a process per core of this machine (up to four) and gives each a
district at a time: the processes inherit the data, so only results travel.
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from geo_risk import columns as C
from geo_risk._errors import GeoRiskError
from geo_risk.columns import HOUSEHOLD
from geo_risk.cores import HERE, Executor, this_machine
from geo_risk.inputs.link import Linked, key_positions

__all__ = ["HERE", "DaskSettings", "Executor", "by_district", "districts", "executor",
           "in_districts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DaskSettings:
    """Where the household stages run: ``workers`` local processes, or the cluster at
    ``scheduler`` (``tcp://host:8786``), whose workers need geo-risk installed."""

    workers: int = 2
    scheduler: str | None = None

    def describe(self) -> str:
        return (f"the Dask cluster at {self.scheduler}" if self.scheduler
                else f"{self.workers} local Dask workers")


class _Dask:
    """Items sent to the workers of a ``dask.distributed`` cluster."""

    def __init__(self, client) -> None:
        self.client = client

    def map(self, fn: Callable, items: Sequence) -> list:
        if len(items) < 2:
            return [fn(item) for item in items]
        data = self.client.scatter(list(items))  # sent once, not inside the task graph
        return self.client.gather(self.client.map(fn, data, pure=False))

    def peak_memory(self) -> dict[str, float]:
        """Each worker's peak resident memory so far, GiB."""
        peaks = self.client.run(_peak_gib)
        return {address: round(gib, 3) for address, gib in sorted(peaks.items())}


def _peak_gib() -> float:
    """This process's peak resident memory, GiB: the kernel's high-water mark, which a
    new process starts afresh (``ru_maxrss`` carries its parent's over ``exec``)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20




@contextmanager
def executor(settings: DaskSettings | None) -> Iterator[Executor]:
    """A Dask client for the run's duration; without ``settings``, this machine: its
    cores (up to four) each take a district at a time in a forked process, or, without
    ``fork``, this process does everything.

    Parameters
    ----------
    settings : DaskSettings or None
        Where the household stages run.

    Yields
    ------
    Executor
        Maps a function over items, results in the items' order.
    """
    if settings is None:
        yield this_machine()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise GeoRiskError("[dask] needs the 'distributed' package; install it with "
                           "'pip install distributed' or remove the [dask] table.") from None
    if settings.scheduler:
        try:
            client = Client(settings.scheduler, timeout="10s")
        except OSError as error:
            raise GeoRiskError(f"[dask] scheduler = {settings.scheduler!r}: cannot reach it "
                               f"({error}); start the scheduler or correct the address."
                               ) from None
        with client:
            yield _Dask(client)
        return
    with LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield _Dask(client)


def by_district(linked: Linked) -> tuple[list[Linked], pd.Series] | None:
    """``linked`` cut into districts, and each household's district (a position in that
    list, indexed by household key); None when the households lie in fewer than two
    districts or carry no district code.

    Each part holds its district's households and their records (and the records
    placed only in one of its output areas), every source present even when the district
    has none of its records, so each part computes the same columns. (A child on the
    register at homes in two districts is an under-five of each; in one process it
    would be counted once, at its first registration. The synthetic worlds have none; a
    partner's register has one home per child.)
    """
    if linked.districts is None:
        return None
    codes, home_district, record_district = linked.districts
    homes = linked.households
    district_of = pd.Series(home_district, index=pd.Index(homes[HOUSEHOLD].to_numpy()))

    def split(table: pd.DataFrame, where: np.ndarray) -> list[pd.DataFrame]:
        order = np.argsort(where, kind="stable")  # each district's rows, in their order
        bounds = np.searchsorted(where[order], np.arange(len(codes) + 1))
        return [table.take(order[a:b]) for a, b in pairwise(bounds)]

    households = split(homes, home_district)
    events = {source: split(table, record_district[source])
              for source, table in linked.events.items()}
    # records placed only in an output area go with the district of its households
    area_district = pd.Series(home_district, index=homes[C.OA].to_numpy())
    area_district = area_district[~area_district.index.duplicated()]
    placed = {source: split(table, area_district.reindex(table[C.OA].to_numpy())
                            .fillna(-1).to_numpy(dtype=int))
              for source, table in linked.area_events.items()}
    parts = [Linked(households[d], {s: events[s][d] for s in events},
                    {s: placed[s][d] for s in placed}, pd.DataFrame(), pd.DataFrame())
             for d in range(len(codes))]
    return parts, district_of


def in_districts(run: Executor, linked: Linked, frame: pd.DataFrame,
                 fn: Callable[[tuple[Linked, pd.DataFrame]], pd.DataFrame]) -> pd.DataFrame:
    """``fn((part, rows))`` for each district's part of ``linked`` and its rows of
    ``frame`` (by ``household_key``), on ``run``, the results (frames indexed like their
    rows) put back in ``frame``'s order; ``fn((linked, frame))`` when there is one
    district. Districts run one after another here, which is also quicker than all at
    once: each merge of households with their records is a district's size."""
    split = by_district(linked)
    if split is None:
        return fn((linked, frame))
    parts, district_of = split
    at = key_positions(frame[HOUSEHOLD], district_of.index)
    if (at < 0).any():  # a key outside every household: not split
        return fn((linked, frame))
    district = district_of.to_numpy()[at]
    rows = [frame[district == d] for d in range(len(parts))]
    return pd.concat(run.map(fn, list(zip(parts, rows, strict=True)))).reindex(frame.index)


def districts(linked: Linked) -> list[Linked]:
    """``linked`` cut into its districts (``[linked]`` for one district)."""
    split = by_district(linked)
    return [linked] if split is None else split[0]
