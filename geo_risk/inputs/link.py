"""Link pseudonymised extracts into households, geocoded to output areas.

Households come from the addresses extract (the gazetteer): one per pseudonymised UPRN,
placed in the output area that contains its British National Grid point, then in its
LSOA and ward through the lookup. Every other source's records join their household by
``household_key``. A record that cannot be linked is never dropped silently: it is
counted in the linkage report by reason and written to the rejects with its source row.

Police records located by grid reference rather than UPRN cannot belong to a household;
they are placed in their output area (``area_only``) and counted apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo_risk import columns as C
from geo_risk._errors import GeoRiskError
from geo_risk.columns import HOUSEHOLD
from geo_risk.inputs.ingest import NEAREST_WITHIN_M, REASONS, REJECT_COLUMNS

__all__ = ["LINK_REPORT_COLUMNS", "Linked", "key_positions", "link_sources"]

log = logging.getLogger(__name__)

LINK_REPORT_COLUMNS = [
    "source", "file", "read", "rejected_at_source", "records", "linked",
    "uprn_not_in_gazetteer", "address_outside_area", "area_only", "match_rate",
]


@dataclass
class Linked:
    """Households and each source's linked records, with the linkage report and rejects."""

    households: pd.DataFrame  # household_key, easting, northing, oa_code, lsoa_code, ...
    events: dict[str, pd.DataFrame]  # source -> linked records (household_key, row, ...)
    area_events: dict[str, pd.DataFrame]  # source -> records placed only in an OA
    report: pd.DataFrame
    rejects: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    placed: dict[str, int] = field(default_factory=dict)  # addresses placed by lookup / point

    @cached_property
    def districts(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None:
        """The district codes, each household's district and each source's records'
        districts (positions in the codes, -1 for a record of no household); None when
        the households lie in fewer than two districts or carry no district code.
        Worked out once: the household stages split by district more than once."""
        if C.LAD not in self.households or self.households[C.LAD].nunique() < 2:
            return None
        codes, home = np.unique(self.households[C.LAD].fillna("").to_numpy(),
                                return_inverse=True)
        keys = _arrow(self.households[HOUSEHOLD])
        records = {}
        for source, table in self.events.items():
            at = key_positions(table[HOUSEHOLD], keys)
            records[source] = np.where(at >= 0, home[at], -1)
        return codes, home, records


def _locate(x: np.ndarray, y: np.ndarray, oas: gpd.GeoDataFrame) -> np.ndarray:
    """OA code of the polygon containing each point, else of the nearest polygon within
    :data:`NEAREST_WITHIN_M` ('' farther than that from every OA)."""
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=C.BNG)
    ok = np.isfinite(x) & np.isfinite(y)
    hit_point, hit_oa = oas.geometry.sindex.query(points[ok], predicate="within")
    codes = np.full(len(x), "", dtype=object)
    located = np.flatnonzero(ok)[hit_point]
    codes[located] = oas.index.to_numpy()[hit_oa]
    near = ok & (codes == "")
    if near.any():
        hit_point, hit_oa = oas.geometry.sindex.nearest(
            points[near], max_distance=NEAREST_WITHIN_M, return_all=False)
        codes[np.flatnonzero(near)[hit_point]] = oas.index.to_numpy()[hit_oa]
        log.info("%d point(s) in no output area placed in the nearest, within %g m",
                 len(hit_point), NEAREST_WITHIN_M)
    return codes


def _likely_cause(x: pd.Series, y: pd.Series, bounds) -> str:
    """What addresses that miss every output area most likely hold: degrees, or the two
    columns the wrong way round."""
    x0, y0, x1, y1 = bounds
    if x.abs().max() <= 180 and y.abs().max() <= 90:
        return "These look like longitude and latitude in degrees. "
    inside = (y >= x0) & (y <= x1) & (x >= y0) & (x <= y1)
    if inside.mean() > 0.5:
        return "With easting and northing the other way round they fall inside: the two " \
               "columns look swapped. "
    return ""


def _place(addresses: pd.DataFrame, oas: gpd.GeoDataFrame) -> tuple[np.ndarray, dict]:
    """Each address's OA code: from the UPRN lookup joined at source when the
    pseudonymised gazetteer carries one (a code outside ``oas`` means outside the area),
    else the polygon containing its point; and how many were placed each way."""
    listed = (addresses[C.OA].fillna("").to_numpy(object) if C.OA in addresses else
              np.full(len(addresses), "", dtype=object))
    by_lookup = listed != ""
    oa = np.where(by_lookup & _member(listed, oas.index), listed, "").astype(object)
    rest = ~by_lookup
    oa[rest] = _locate(addresses["easting"].to_numpy(float)[rest],
                       addresses["northing"].to_numpy(float)[rest], oas)
    return oa, {"by_uprn_lookup": int(by_lookup.sum()), "by_point": int(rest.sum())}


def _arrow(values) -> pa.Array:
    array = pa.array(values, from_pandas=True) if not isinstance(
        values, pa.Array | pa.ChunkedArray) else values
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def key_positions(keys, values) -> np.ndarray:
    """The position of each of ``keys`` among the unique ``values`` (-1 where absent), by
    Arrow's hash lookup: pandas makes a Python object of every Arrow string it looks up
    (a county's records took seconds a lookup)."""
    return pc.index_in(_arrow(keys), value_set=_arrow(values)).fill_null(-1).to_numpy(
        zero_copy_only=False)


def _member(keys, values) -> np.ndarray:
    """Whether each of ``keys`` is among the unique ``values``."""
    return key_positions(keys, values) >= 0


def _reject_rows(file: str, rows: pd.Series, column: str, reason: str) -> pd.DataFrame:
    return pd.DataFrame({"file": file, "row": rows.to_numpy(), "column": column,
                         "reason": reason, "detail": REASONS[reason]}, columns=REJECT_COLUMNS)


def link_sources(
    tables: dict[str, tuple[pd.DataFrame, dict]],
    oas: gpd.GeoDataFrame,
    *,
    min_match_rate: float = 0.9,
) -> Linked:
    """Build households from the addresses extract and link every other source to them.

    Parameters
    ----------
    tables
        Source name -> (pseudonymised table, its metadata) as read by
        :func:`geo_risk.inputs.pseudonymise.read_pseudonymised`. ``addresses`` is required.
    oas
        Output areas from :func:`geo_risk.geography.boundaries.load_boundaries`.
    min_match_rate
        A source linking fewer of its records than this gets a loud warning: that is how
        a partner who normalised UPRNs differently, or used another key, shows up.

    Returns
    -------
    Linked
    """
    if "addresses" not in tables:
        raise GeoRiskError("no addresses extract: households come from the address gazetteer "
                           "(uprn, easting, northing); pseudonymise and supply it.")
    addresses, meta = tables["addresses"]
    other = sorted(s for s, (_, m) in tables.items()
                   if m.get("key_fingerprint") != meta.get("key_fingerprint"))
    if other:
        raise GeoRiskError(
            f"{', '.join(other)}: pseudonymised with another key than the addresses extract, "
            "so not one of their records could link to a household. Pseudonymise every "
            "extract with the one project key ('geo-risk pseudonymise --key-file').")
    warnings: list[str] = []
    file = meta.get("reconciliation", {}).get("file", "addresses")
    oa, placed = _place(addresses, oas)
    duplicate = addresses[HOUSEHOLD].duplicated(keep="first").to_numpy()
    outside = (oa == "") & ~duplicate
    rejects = [_reject_rows(file, addresses["row"][outside], "easting", "outside_area"),
               _reject_rows(file, addresses["row"][duplicate], "uprn", "duplicate_uprn")]
    keep = ~outside & ~duplicate
    if len(addresses) and not keep.any():
        x, y = (pd.to_numeric(addresses[c], errors="coerce") for c in ["easting", "northing"])
        x0, y0, x1, y1 = oas.total_bounds
        raise GeoRiskError(
            f"{file}: none of its {len(addresses):,} addresses lies inside the output areas "
            f"(addresses from ({x.min():,.0f}, {y.min():,.0f}) to ({x.max():,.0f}, "
            f"{y.max():,.0f}); output areas from ({x0:,.0f}, {y0:,.0f}) to ({x1:,.0f}, "
            f"{y1:,.0f})). {_likely_cause(x, y, oas.total_bounds)}The addresses and the "
            "boundaries must cover the same area, the addresses as British National Grid "
            "eastings and northings in metres.")
    households = addresses.loc[keep, [HOUSEHOLD, "easting", "northing"]].copy()
    households[C.OA] = oa[keep]
    area_cols = [c for c in [C.LSOA, C.WARD, C.LAD, C.DEPRIVATION, C.DEPRIVATION_DECILE]
                 if c in oas]
    households = households.join(oas[area_cols], on=C.OA).reset_index(drop=True)
    outside_keys = pd.Index(addresses.loc[outside, HOUSEHOLD].unique())
    known = pd.Index(households[HOUSEHOLD])  # unique: duplicates were rejected above

    rows = [_report_row("addresses", meta, len(addresses), int(keep.sum()), 0,
                        int(outside.sum()), 0, with_uprn=len(addresses))]
    events: dict[str, pd.DataFrame] = {}
    area_events: dict[str, pd.DataFrame] = {}
    for source, (table, meta) in tables.items():
        if source == "addresses":
            continue
        file = meta.get("reconciliation", {}).get("file", source)
        key = table[HOUSEHOLD] if HOUSEHOLD in table else pd.Series("", index=table.index)
        has_uprn = (key != "").to_numpy()
        linked = _member(key, known)
        outside_area = has_uprn & ~linked & _member(key, outside_keys)
        not_found = has_uprn & ~linked & ~outside_area
        area_only = np.zeros(len(table), dtype=bool)
        grid_outside = np.zeros(len(table), dtype=bool)  # a grid reference, outside every OA
        if not has_uprn.all() and "easting" in table:
            where = _locate(table["easting"].to_numpy(float), table["northing"].to_numpy(float),
                            oas)
            area_only = ~has_uprn & (where != "")
            grid_outside = ~has_uprn & (where == "")
            area_events[source] = table[area_only].assign(**{C.OA: where[area_only]})
            rejects.append(_reject_rows(file, table["row"][grid_outside], "easting",
                                        "outside_area"))
        rejects += [_reject_rows(file, table["row"][not_found], "uprn", "uprn_not_in_gazetteer"),
                    _reject_rows(file, table["row"][outside_area], "uprn",
                                 "address_outside_area")]
        events[source] = table[linked].reset_index(drop=True)
        # records = linked + not found + outside (by UPRN or by grid reference) + area only;
        # the match rate is over the records that carry a UPRN
        rows.append(_report_row(source, meta, len(table), int(linked.sum()), int(not_found.sum()),
                                int(outside_area.sum() + grid_outside.sum()),
                                int(area_only.sum()), with_uprn=int(has_uprn.sum())))

    report = pd.DataFrame(rows, columns=LINK_REPORT_COLUMNS)
    for r in report.itertuples():
        if r.match_rate < min_match_rate:
            warnings.append(
                f"{r.source}: only {r.match_rate:.1%} of the records "
                f"with a UPRN linked to a household (threshold {min_match_rate:.0%}). Check that "
                "the partner exported UPRNs as text and pseudonymised with the project key.")
    for message in warnings:
        log.warning(message)
    all_rejects = pd.concat([r for r in rejects if len(r)] or [pd.DataFrame(
        columns=REJECT_COLUMNS)], ignore_index=True)
    return Linked(households, events, area_events, report, all_rejects, warnings, placed)


def _report_row(source, meta, records, linked, not_found, outside, area_only, *,
                with_uprn: int) -> list:
    recon = meta.get("reconciliation", {})
    rate = linked / with_uprn if with_uprn else 1.0
    return [source, recon.get("file", ""), recon.get("read", records),
            recon.get("rejected", 0), records, linked, not_found, outside, area_only,
            round(rate, 4)]
