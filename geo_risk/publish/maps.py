"""The offline interactive HTML map for partnership boards (folium / Leaflet).

A run's map is one self-contained HTML file (``maps/map.html``) that works on a council
laptop with no internet or with CDNs blocked: Leaflet's JavaScript and CSS are inlined
from the ``xstatic-leaflet`` package (its licence notice kept), folium's other CDN assets
(jQuery, Bootstrap, Font Awesome) are not used and are removed, and
:func:`self_contained` refuses to write a page that still loads anything from elsewhere.
Background tiles are optional, off by default and labelled "needs internet".

The file holds every layer: risk by output area, risk by ward, clusters (LISA), emerging
hot spots, known and newly identified areas of concern, and service sites when there are
any. A URL fragment opens it on one view (``map.html#hotspots``, :data:`VIEWS`), so the
report links into the one file. Values are the published ones, after disclosure control
(:mod:`geo_risk.areas.disclosure`); no household point is ever drawn.

Small at county size: each shape set (output areas, wards, districts, areas of concern,
sites) is written once, however many layers draw it; output areas are simplified for
display by shapely's coverage simplification (``DISPLAY_TOLERANCE``; shared edges stay
shared) and every coordinate is an integer on a grid of 0.00001 degrees (about 1 m),
each vertex a step from the one before; the page decodes them. Above ``CANVAS_ABOVE``
features Leaflet draws on a canvas rather than SVG.

Ward outlines are always drawn; a run over several districts (a county) draws district
outlines too.

For tests and benchmarks the page exposes ``window.GEO_RISK_MAP``,
``window.GEO_RISK_LAYERS`` (layer name -> Leaflet layer), ``window.GEO_RISK_COUNTS``
(layer name -> features in the data) and ``window.GEO_RISK_OUTLINES`` (the outlines
drawn).
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure, MacroElement
from jinja2 import Template

from geo_risk import columns as C
from geo_risk.areas.disclosure import SAFE, Disclosure
from geo_risk.areas.hotspots import EMERGING, STABLE, concern_outlines
from geo_risk.io.escape import script_json
from geo_risk.model.outcomes import DEFAULT_OUTCOME, SCHOOL_READINESS, Outcome, get_outcome
from geo_risk.publish.symbology import (
    CASING,
    COMMUNITY_COLOURS,
    CONCERN_STYLES,
    EHSA_COLOURS,
    EHSA_MEANINGS,
    NO_DATA_COLOUR,
    RISING,
    SITE_COLOURS,
    UNSTABLE_STYLE,
    WITHHELD,
    WITHHELD_COLOUR,
    Classes,
    lisa_colours,
    long_date,
    risk_classes,
    show_count,
    site_fields,
)
from geo_risk.publish.tables import STATEMENT, TABLES_FILE, table_page

__all__ = [
    "CANVAS_ABOVE",
    "LEGEND_CSS",
    "MAP_FILE",
    "VIEWS",
    "MapContext",
    "external_references",
    "interval_text",
    "self_contained",
    "site_rows",
    "svg_preview",
    "write_maps",
]

CANVAS_ABOVE = 3000
_PRECISION = 1e-5  # degrees, about 1 m

RISK_OA = "Risk by output area"
RISK_WARD = "Risk by ward"
LISA = "Clusters of high and low risk (LISA)"
EHSA = "Emerging hot spots"
CONCERN = "Known and newly identified areas of concern"
SITES = "Service sites"
COMMUNITY = "What the community says, beside the data"

#: The one map file of a run.
MAP_FILE = "map.html"
#: Views (``map.html#<view>``) -> the layers they switch on; the first is the default.
VIEWS = {"oa_risk": (RISK_OA,), "ward_risk": (RISK_WARD,), "hotspots": (EHSA,),
         "clusters": (LISA,), "areas_of_concern": (CONCERN, RISK_OA)}
#: when a siting was run; the risk by output area shows beneath the sites
SITES_VIEW = {"service_sites": (SITES, RISK_OA)}
#: when the run read what the community says; the areas of concern drawn over it
COMMUNITY_VIEW = {"community": (COMMUNITY, CONCERN)}
#: Ward names are drawn where at most this many are in view (a county's hundreds would
#: cover its map; zoomed in, the names come).
MOST_LABELS = 40
#: Metres of display simplification (the GeoPackage keeps full geometry).
DISPLAY_TOLERANCE = 5.0


@dataclass(frozen=True)
class MapContext:
    """What every map says about itself: place, date, data vintage, marking, credits."""

    area_name: str
    reference_date: str
    attribution: str
    vintage: str = "Output areas and LSOAs 2011, wards 2013; deprivation IMD 2019"
    marking: str = "OFFICIAL-SENSITIVE"
    tiles: bool = False
    outcome: str = DEFAULT_OUTCOME  # what is predicted (geo_risk.outcomes)

    @property
    def words(self) -> Outcome:
        """The outcome's words (:class:`geo_risk.outcomes.Outcome`)."""
        return get_outcome(self.outcome)


def _fmt_rate(value, children, words: Outcome = SCHOOL_READINESS) -> str:
    if not pd.isna(children) and children == 0:
        return f"no {words.population} scored"
    return WITHHELD if pd.isna(value) else f"{value:.0%}"


def _stability(share: float) -> str:
    """A category's stability for a tooltip: the share of household resamples agreeing."""
    if pd.isna(share):
        return "not measured"
    return f"{share:.0%} of resamples" + (" (stable)" if share >= STABLE else "")


def _risk_table(index: pd.Index, table: pd.DataFrame, classes: Classes,
                names: dict[str, pd.Series], words: Outcome = SCHOOL_READINESS
                ) -> pd.DataFrame:
    """Tooltip fields of a risk layer (names, code, counts, risk, band) and ``_fill``, in
    the outcome's ``words``."""
    t = table.reindex(index)
    out = pd.DataFrame({label: series.reindex(index).fillna("").astype(str).to_numpy()
                        for label, series in names.items()}, index=index)
    out["code"] = index.astype(str)
    out[words.people.capitalize()] = t["children_under5"].map(show_count).to_numpy()
    out[words.expected] = t["expected_not_ready"].map(show_count).to_numpy()
    out["Predicted risk"] = [_fmt_rate(v, c, words) for v, c in
                             zip(t["mean_risk"], t["children_under5"], strict=True)]
    out["95% interval"] = interval_text(t)
    if "vs_district" in t:
        out["Compared with the district"] = t["vs_district"].fillna("").to_numpy()
    band = classes.label(t["mean_risk"].to_numpy()).to_numpy()
    fill = classes.colour(t["mean_risk"].to_numpy()).to_numpy()
    withheld = t["mean_risk"].isna().to_numpy() & t["children_under5"].isna().to_numpy()
    out["Band"] = np.where(withheld, "withheld (c)", band)
    out["_fill"] = np.where(withheld, WITHHELD_COLOUR, fill)
    return out


def _lisa_since(h: pd.DataFrame) -> pd.Series:
    """Each area's local Moran quadrant over the refreshes in words: "high-high since 30
    June 2016 (before: not significant)", "low-low throughout"; "withheld" as withheld.

    >>> _lisa_since(pd.DataFrame({"lisa_last": ["high-high", "low-low", "withheld"],
    ...                           "lisa_since": ["2016-06-30", "2014-03-31", "withheld"],
    ...                           "lisa_from": ["not significant", "", "withheld"]})).tolist()
    ['high-high since 30 June 2016 (before: not significant)', 'low-low throughout', 'withheld']
    """
    def words(last, since, before):
        if last == "withheld" or not isinstance(last, str):
            return "withheld"
        if not isinstance(before, str) or not before:
            return f"{last} throughout"
        return f"{last} since {long_date(since)} (before: {before})"
    return pd.Series([words(*row) for row in zip(h["lisa_last"], h["lisa_since"],
                                                h["lisa_from"], strict=True)], index=h.index)


def interval_text(table: pd.DataFrame) -> np.ndarray:
    """Each area's 95% interval of predicted risk in words ("70% to 76%"); blank where
    it is withheld or was not measured."""
    if "mean_risk_low95" not in table:
        return np.full(len(table), "", dtype=object)
    return np.array(["" if pd.isna(lo) or pd.isna(hi) else f"{lo:.0%} to {hi:.0%}"
                     for lo, hi in zip(table["mean_risk_low95"], table["mean_risk_high95"],
                                       strict=True)], dtype=object)


def site_rows(sites: pd.DataFrame, words: Outcome = SCHOOL_READINESS) -> pd.DataFrame:
    """The service sites as their tooltips, tables and the report show them."""
    fields = site_fields(words)
    rows = sites[list(fields)].reset_index(drop=True)
    rows["newly_covered"] = rows["newly_covered"].map(show_count)
    rows["cumulative_coverage"] = rows["cumulative_coverage"].map(
        lambda v: "" if pd.isna(v) else f"{v:.0%}")
    return rows.rename(columns=fields)


def _legend_rows(items: list[tuple[str, str, str]]) -> str:
    """(swatch css, label, kind) rows; kind 'fill' or 'line'."""
    rows = []
    for css, label, kind in items:
        if kind == "line":
            swatch = f'<span class="gr-line" style="{css}"></span>'
        else:
            swatch = f'<span class="gr-box" style="background:{css}"></span>'
        rows.append(f"<div>{swatch}{html.escape(label)}</div>")
    return "".join(rows)


#: Legend swatches, shared with the report.
LEGEND_CSS = """
.gr-box{display:inline-block;width:14px;height:12px;margin-right:6px;border:1px solid #777;
 vertical-align:middle}
.gr-line{display:inline-block;width:26px;height:0;margin-right:6px;vertical-align:middle}
"""
_CSS = LEGEND_CSS + """
.gr-title{position:absolute;top:26px;left:54px;z-index:1000;background:#fff;padding:6px 10px;
 border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:14px/1.3 system-ui,sans-serif;
 max-width:46%;max-height:30%;overflow:auto;overflow-wrap:anywhere}
.gr-title h1{font-size:16px;margin:0 0 2px}
.gr-title p{margin:0;color:#333;font-size:12px}
.gr-marking{position:absolute;top:0;left:50%;transform:translateX(-50%);z-index:1001;
 background:#fff;color:#b00020;font:bold 13px system-ui,sans-serif;padding:2px 12px;
 border:2px solid #b00020;border-top:0;letter-spacing:.05em}
.gr-legend{position:absolute;bottom:50px;left:10px;z-index:1000;background:#fff;
 padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
 font:12px/1.5 system-ui,sans-serif;max-width:320px;max-height:55%;overflow:auto}
.gr-legend summary{font-weight:600;cursor:pointer}
@media (max-width:700px){
 .gr-title{left:48px;right:56px;max-width:none;padding:3px 6px}
 .gr-title h1{font-size:13px}.gr-title p{font-size:11px}
 .gr-legend{max-width:70vw;bottom:58px}
 .leaflet-control-attribution{font-size:9px;max-width:60vw}
 .gr-marking{font-size:10px;white-space:nowrap;padding:1px 8px}}
.gr-legend h2{font-size:13px;margin:4px 0 2px}
.leaflet-control-attribution{max-width:50vw;white-space:normal;line-height:1.3}
.gr-note{color:#444;font-size:11px;margin-top:4px}
.gr-skip{position:absolute;left:-999px;top:0;z-index:2000;background:#fd0;color:#0b0c0c;
 padding:6px 10px;font:14px system-ui,sans-serif}
.gr-skip:focus{left:54px}
#gr-main{position:absolute;inset:0}
.gr-find{margin:4px 0 0;display:flex;flex-wrap:wrap;gap:2px 4px;align-items:center;
 font-size:12px}
.gr-find input{flex:1 1 9em;min-width:0;font:13px system-ui,sans-serif;padding:2px 4px;
 border:1px solid #505a5f}
.gr-find button{font:13px system-ui,sans-serif}
.gr-found{flex-basis:100%;margin:0;color:#0b0c0c}
.gr-found:empty{display:none}
.gr-label span{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;
 font:600 12px system-ui,sans-serif;color:#0b0c0c;
 text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff,0 0 1px #fff}
:focus-visible{outline:3px solid #0b0c0c;outline-offset:2px;box-shadow:0 0 0 5px #fd0}
"""


@dataclass
class _Layer:
    """One switchable layer: its features are the shapes of ``shapes`` (a shape set the
    page holds once, however many layers draw it), with ``props`` (tooltip label ->
    values, in tooltip order) and ``fill`` (a colour per feature)."""

    name: str
    shapes: str
    props: pd.DataFrame
    style: dict
    legend: str
    fill: np.ndarray | None = None
    pane: str | None = None


def _display(geoms: gpd.GeoSeries, tolerance: float = DISPLAY_TOLERANCE
             ) -> tuple[gpd.GeoSeries, bool]:
    """Output areas simplified for display (``tolerance`` metres), and whether they are a
    coverage. A valid coverage (edge-matched, not overlapping: the embedded town, ONS's
    files) gets shapely's coverage simplification, which keeps the edges neighbours share,
    so no sliver or gap opens; any other set each polygon's own topology-preserving
    simplification, whose slivers are under the tolerance. A polygon whose simplification
    is invalid or empty is drawn as it is (and the set is then no coverage)."""
    polygons = geoms.to_numpy()
    try:
        coverage = bool(shapely.coverage_is_valid(polygons))
        simple = (shapely.coverage_simplify(polygons, tolerance) if coverage else
                  shapely.simplify(polygons, tolerance, preserve_topology=True))
    except shapely.errors.GEOSException:
        return geoms, False
    keep = shapely.is_valid(simple) & ~shapely.is_empty(simple)
    return (gpd.GeoSeries(np.where(keep, simple, polygons), index=geoms.index, crs=geoms.crs),
            coverage and bool(keep.all()))


def _outlines(shown: gpd.GeoDataFrame, by: str, coverage: bool) -> gpd.GeoSeries:
    """The shown output areas dissolved by ``by`` (wards, districts): a coverage by its
    shared edges (quick), anything else by a full union, which tolerates edges that do not
    quite meet (a coverage union refuses them)."""
    return shown.dissolve(by, method="coverage" if coverage else "unary").geometry


def _layers(oas: gpd.GeoDataFrame, tables: dict[str, pd.DataFrame], hotspots: pd.DataFrame,
            sites: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None, ehsa_measure: str = "",
            disclosure: Disclosure = SAFE, words: Outcome = SCHOOL_READINESS,
            community: pd.DataFrame | None = None):
    """The shape sets (name -> geometries in EPSG:27700), the outlines drawn for context
    (wards, and districts when there are several) as (name, shape set, style), and the
    layers."""
    geoms, coverage = _display(oas.geometry)
    shown = oas[[C.WARD, "geometry"]].set_geometry(geoms)
    wards = _outlines(shown, C.WARD, coverage)
    shapes = {"oa": shown.geometry, "ward": wards}
    oa_table = tables["oa"].reindex(oas.index)
    oa_classes = risk_classes(tables["oa"]["mean_risk"])
    names = {"Ward": oas[C.WARD_NAME]}
    if C.LSOA_NAME in oas:
        names["LSOA"] = oas[C.LSOA_NAME]
    oa = _risk_table(oas.index, oa_table, oa_classes, names, words)
    fill = {"kind": "fill", "weight": 0.4, "color": "#666"}
    layers = [_Layer(RISK_OA, "oa", oa.drop(columns="_fill"), fill, _legend_rows(
        [(c, lab, "fill") for c, lab in zip(oa_classes.colours, oa_classes.labels,
                                            strict=True)]
        + [(WITHHELD_COLOUR, f"withheld (c): {disclosure.fewer_than(words.population)}",
            "fill"),
           (NO_DATA_COLOUR, f"no {words.population} scored", "fill")]), oa["_fill"].to_numpy())]

    ward_table = tables["ward"].reindex(wards.index)
    ward_classes = risk_classes(tables["ward"]["mean_risk"])
    ward = _risk_table(wards.index, ward_table, ward_classes,
                       {"Ward": ward_table[C.WARD_NAME]}, words)
    layers.append(_Layer(RISK_WARD, "ward", ward.drop(columns="_fill"),
                         {**fill, "weight": 1.2, "color": "#333"},
                         _legend_rows([(c, lab, "fill") for c, lab in
                                       zip(ward_classes.colours, ward_classes.labels,
                                           strict=True)]), ward["_fill"].to_numpy()))

    h = hotspots.reindex(oas.index)
    base = oa[[*names, "code", "Predicted risk"]]
    colours = lisa_colours(words)
    present = [q for q in colours if (h["lisa_quadrant"] == q).any()]
    lisa = base.assign(Cluster=h["lisa_quadrant"].map(lambda q: colours[q][1]).to_numpy())
    if "lisa_last" in h:  # a run from before the quadrants over time has none
        lisa["Over the refreshes"] = _lisa_since(h).to_numpy()
    layers.append(_Layer(
        LISA, "oa", lisa, fill,
        _legend_rows([(colours[q][0], colours[q][1], "fill") for q in present]),
        h["lisa_quadrant"].map(lambda q: colours[q][0]).to_numpy()))

    order = [c for c in EHSA_COLOURS if (h["ehsa_category"] == c).any()]
    stability = h.get("ehsa_stability", pd.Series(np.nan, index=h.index))
    # rising where the category is not an emerging one: emerging too, in its own colour
    rising = h.get("rising", pd.Series(False, index=h.index)).fillna(False).astype(bool)
    rising_only = rising & ~h["ehsa_category"].isin(EMERGING)
    # a category most household resamples do not give looks unstable: paler, edged dashed
    unstable = (h["ehsa_category"] != "no pattern") & (stability < STABLE) & ~rising_only
    rise = h.get("rise", pd.Series(np.nan, index=h.index))
    layers.append(_Layer(
        EHSA, "oa", base.assign(
            Category=h["ehsa_category"].to_numpy(),
            Stability=stability.map(_stability).to_numpy(),
            **{"Rise over the last year": [
                "" if pd.isna(r) else f"{r * 100:+.1f} points" + (" (significant)" if s
                                                                  else "")
                for r, s in zip(rise, rising, strict=True)]},
            _unstable=unstable.to_numpy()), {**fill, "unstable": UNSTABLE_STYLE},
        _legend_rows(([(RISING[0], RISING[1], "fill")] if rising_only.any() else [])
                     + [(EHSA_COLOURS[c], f"{c[0].upper() + c[1:]}: {EHSA_MEANINGS[c]}",
                       "fill") for c in order]
                     + ([(f"border-top:2px dashed {UNSTABLE_STYLE['color']}",
                          f"Dashed edge, paler: under {STABLE:.0%} of the resamples of "
                          "households give this category (unstable)", "line")]
                        if unstable.any() else []))
        + (f'<div style="font-size:11px;max-width:190px">Trend in '
           f'{html.escape(ehsa_measure)} over the refreshes</div>' if ehsa_measure else ""),
        np.where(rising_only, RISING[0], h["ehsa_category"].map(EHSA_COLOURS))))

    concern = concern_outlines(shown, hotspots["concern"])
    shapes["concern"] = concern.geometry
    layers.append(_Layer(
        CONCERN, "concern", pd.DataFrame({
            "Area of concern": concern["concern"].map(
                lambda c: CONCERN_STYLES[c][1].split(" (")[0]),
            "Output areas": concern["output_areas"], "_kind": concern["concern"]}),
        {"kind": "concern", "casing": CASING,
         "styles": {k: {**s, "fill": False} for k, (s, _) in CONCERN_STYLES.items()}},
        _legend_rows([(f"border-top:{s['weight']}px "
                       f"{'dashed' if s['dashArray'] else 'solid'} {s['color']}", label,
                       "line") for s, label in CONCERN_STYLES.values()]), pane="outlines"))
    if sites is not None and len(sites[0]):
        points, catchments = sites
        shapes["sites"], shapes["catchments"] = points.geometry, catchments.geometry
        props = site_rows(points, words)
        layers.append(_Layer(
            SITES, "sites", props, {"kind": "sites", "color": "#222", "weight": 1,
                                    "fill_opacity": 1.0, "catchments": "catchments"},
            _legend_rows([(SITE_COLOURS["new"], "New site (chosen)", "fill"),
                          (SITE_COLOURS["existing"], "Existing site", "fill"),
                          ("border-top:2px dotted #1b7837", "Reach of each site (the "
                           "siting's distance)", "line")]),
            np.where(props["Status"] == "existing", SITE_COLOURS["existing"],
                     SITE_COLOURS["new"])))
    if community is not None:
        said = community.set_index(C.WARD).reindex(wards.index)
        layers.append(_Layer(COMMUNITY, "ward", pd.DataFrame({
            "Ward": said[C.WARD_NAME].to_numpy(), "Who sees concern": said["view"].to_numpy(),
            "Output areas of concern (data)": said["data_concern_oas"].to_numpy(),
            "Mentions (community)": said["community_mentions"].astype(str).to_numpy(),
            "Themes named": said["themes"].fillna("").to_numpy()}),
            {**fill, "weight": 1.2, "color": "#333"},
            _legend_rows([(colour, {"both": "Both the community and the data",
                                    "community only": "Only the community",
                                    "data only": "Only the data",
                                    "neither": "Neither"}[view], "fill")
                          for view, colour in COMMUNITY_COLOURS.items()]),
            said["view"].map(COMMUNITY_COLOURS).to_numpy()))
    outlines = [("Ward boundaries", "ward",
                 {"color": "#555", "weight": 1, "fill": False, "dashArray": "2 3"})]
    if C.LAD in oas and oas[C.LAD].nunique() > 1:  # a county: district outlines too
        shapes["district"] = _outlines(oas[[C.LAD, "geometry"]].set_geometry(shown.geometry),
                                       C.LAD, coverage)
        outlines.append(("District boundaries", "district",
                         {"color": "#222", "weight": 2.5, "fill": False}))
    # what the find box finds (name -> the shapes it zooms to) and the names drawn
    ward_names = (oas[[C.WARD, C.WARD_NAME]].drop_duplicates(C.WARD).set_index(C.WARD)
                  [C.WARD_NAME].reindex(wards.index).fillna(pd.Series(wards.index,
                                                                      index=wards.index)))
    places = [("ward", "ward", ward_names.to_numpy()), ("output area", "oa", oas.index)]
    if C.LSOA_NAME in oas:
        places.append(("LSOA", "oa", oas[C.LSOA_NAME].to_numpy()))
    # each ward's name inside it; where names would overlap, the higher-risk ward's is drawn
    first = np.argsort(-ward_table["mean_risk"].fillna(-1).to_numpy(), kind="stable")
    shapes["ward_label"] = gpd.GeoSeries(shapely.point_on_surface(wards.to_numpy()[first]),
                                         crs=wards.crs)
    return shapes, outlines, layers, places, ward_names.to_numpy()[first]


def _encode(geoms: gpd.GeoSeries, origin: np.ndarray) -> list:
    """Geometries as integers on a grid of ``_PRECISION`` degrees from ``origin``, each
    ring's first vertex absolute and the rest as steps from the one before (the page
    decodes them; neighbours' shared vertices round alike, so shared edges stay shared):
    a point is ``[x, y]``; a polygon or multipolygon a list of polygons, each a list of
    rings, each a flat list ``x0, y0, dx1, dy1, ...`` (not repeating the first vertex)."""

    def grid(xy) -> np.ndarray:
        return np.round((np.asarray(xy) - origin) / _PRECISION).astype(np.int64)

    def ring(r) -> list[int]:
        xy = grid(r.coords)[:-1]
        return np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64)).ravel().tolist()

    out: list = []
    for g in geoms.to_crs(4326).to_numpy():
        if g.geom_type == "Point":
            out.append(grid(g.coords[0]).tolist())
        else:
            out.append([[ring(p.exterior), *map(ring, p.interiors)]
                        for p in getattr(g, "geoms", [g])])
    return out


class _Script(MacroElement):
    """JavaScript that runs after the map and its layers exist."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self.code = code


def _column(values) -> list:
    """A property column for the page: text and numbers as they are, missing as null."""
    return [None if isinstance(v, float) and np.isnan(v) else
            v.item() if isinstance(v, np.generic) else v for v in values]


class _Columns:
    """The page's property columns, each held once however many layers show it (the
    output areas' names, codes and risk are in three layers), and a column of few distinct
    values (a band, a category, a colour, a ward's name) as its values and a code per
    feature: a county's map stays small."""

    def __init__(self) -> None:
        self.columns: list = []
        self._seen: dict[str, int] = {}

    def add(self, values) -> int:
        """The index of ``values``' column, added if it is not there yet."""
        plain = _column(values)
        key = json.dumps(plain, separators=(",", ":"))
        if key not in self._seen:
            keys = [json.dumps(v) for v in plain]  # 1, 1.0 and True stay apart
            distinct = dict.fromkeys(keys)
            code = {k: i for i, k in enumerate(distinct)}
            self._seen[key] = len(self.columns)
            self.columns.append(
                {"values": [json.loads(k) for k in distinct], "codes": [code[k] for k in keys]}
                if len(distinct) * 4 <= len(plain) else plain)
        return self._seen[key]


#: The page's JavaScript (after the map and the layer groups exist): decodes the shape
#: sets once, builds every layer from them, binds text-node tooltips, keeps the legend
#: in step with the layers shown and switches to the layers a URL fragment names.
_PAGE_JS = "\n" + Path(__file__).with_name("map_page.js").read_text(encoding="utf-8")


def _build(shapes, outlines, layers: list[_Layer], places, labels,
           views: dict[str, tuple[str, ...]], ctx: MapContext, bounds,
           disclosure: Disclosure = SAFE) -> folium.Map:
    """The one page: Leaflet map, layer groups in the layer control, the data (every shape
    set once, the places the find box finds, the names drawn in the order of ``labels``),
    title with the find box, marking and legend."""
    features = sum(len(shapes[layer.shapes]) for layer in layers)
    m = folium.Map(tiles=None, prefer_canvas=features > CANVAS_ABOVE, control_scale=True,
                   zoom_snap=0.25)
    m.fit_bounds(bounds)
    background = None
    if ctx.tiles:
        background = folium.TileLayer("OpenStreetMap", overlay=True, show=False,
                                      name="Street map background (needs internet)")
        background.add_to(m)
    folium.map.CustomPane("outlines", z_index=450).add_to(m)
    groups, legend = {}, []
    default = next(iter(views))
    for layer in layers:
        group = folium.FeatureGroup(name=layer.name, show=layer.name in views[default])
        group.add_to(m)
        groups[layer.name] = group.get_name()
        legend.append(f'<section data-layer="{html.escape(layer.name)}"><h2>'
                      f"{html.escape(layer.name)}</h2>{layer.legend}</section>")
    if background is not None:  # in the layer control, off until asked for
        groups[background.layer_name] = background.get_name()
    # the layer control is the page script's: expanded on a wide screen, a button on a
    # narrow one (folium's is one or the other)

    origin = np.round(np.array([bounds[0][1], bounds[0][0]]) / _PRECISION) * _PRECISION
    columns = _Columns()
    data = {
        "origin": origin.tolist(), "precision": _PRECISION,
        "shapes": {name: _encode(geoms, origin) for name, geoms in shapes.items()},
        "outlines": [{"name": name, "shapes": set_, "style": style}
                     for name, set_, style in outlines],
        "layers": [{"name": layer.name, "shapes": layer.shapes, "style": layer.style,
                    "pane": layer.pane,
                    "tooltip": [c for c in layer.props.columns if not c.startswith("_")],
                    "props": {c: columns.add(layer.props[c].to_numpy())
                              for c in layer.props.columns},
                    "fill": None if layer.fill is None else columns.add(layer.fill)}
                   for layer in layers],
        "columns": columns.columns,
        "find": [{"kind": kind, "shapes": set_, "names": columns.add(names)}
                 for kind, set_, names in places],
        "labels": {"shapes": "ward_label", "names": columns.add(labels),
                   "most": MOST_LABELS},
        "views": {k: list(v) for k, v in views.items()}, "start": default,
        "attribution": html.escape(ctx.attribution),
        "bounds": [[float(v) for v in corner] for corner in bounds],
    }
    title = (f'<div class="gr-title"><h1>{html.escape(_title(ctx))}'
             f"</h1><p>Reference date {html.escape(ctx.reference_date)}"
             f" · {html.escape(ctx.vintage)}</p>"
             '<form class="gr-find" role="search"><label for="gr-find">Find a ward or area'
             '</label><input id="gr-find" type="search" list="gr-places" autocomplete="off">'
             '<datalist id="gr-places"></datalist><button type="submit">Find</button>'
             '<p class="gr-found" role="status"></p></form></div>')
    marking = (f'<div class="gr-marking">{html.escape(ctx.marking)}</div>'
               if ctx.marking else "")
    legend_html = (f'<details class="gr-legend" open><summary>Legend</summary>'
                   f'{"".join(legend)}'
                   f'<div class="gr-note">{html.escape(disclosure.note())}. Predicted risk is '
                   f"the mean of {ctx.words.probabilities}{ctx.words.event_when}. "
                   f'<a href="{STATEMENT}">Accessibility statement</a>.</div></details>')
    root = cast(Figure, m.get_root())
    root.header.add_child(folium.Element(f"<style>{_CSS}</style>"))
    root.html.add_child(folium.Element(marking + title + legend_html))
    code = (_PAGE_JS.replace("__MAP__", m.get_name())
            .replace("__GROUPS__", "{" + ", ".join(f"{script_json(n)}: {g}"
                                                   for n, g in groups.items()) + "}")
            .replace("__DATA__", script_json(data)))
    _Script(code).add_to(m)
    return m


def write_maps(folder: Path, oas: gpd.GeoDataFrame, tables: dict[str, pd.DataFrame],
               hotspots: pd.DataFrame, ctx: MapContext, *,
               sites: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None,
               ehsa_measure: str = "", disclosure: Disclosure = SAFE,
               community: pd.DataFrame | None = None) -> dict[str, str]:
    """Write the offline map, ``folder/map.html``; returns view name -> link
    (``map.html#hotspots``...: the fragment opens the map on that view's layers).

    Parameters
    ----------
    folder
        Where the page goes (``publish/maps/``).
    oas
        Output areas (EPSG:27700) indexed by OA code with the lookup columns.
    tables
        The published (disclosure-controlled) area tables, at least ``oa`` and ``ward``.
    hotspots
        Per OA: ``lisa_quadrant``, ``ehsa_category`` and ``concern``.
    ctx
        What the map says about itself: place, date, geography, marking, credits.
    sites
        Optional service sites and their catchments (:mod:`geo_risk.siting.plan`): sites
        with ``name``, ``kind``, ``status``, ``newly_covered``, ``cumulative_coverage``.
    ehsa_measure
        What the emerging hot spots measure, for their legend.
    disclosure
        The rules the tables were published under, for the legend's words.
    community
        Optional: what the community says beside the data, by ward
        (:func:`geo_risk.areas.community.agreement`), a layer of its own.

    Returns
    -------
    dict of str to str
        View name -> link into the page.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shapes, outlines, layers, places, labels = _layers(oas, tables, hotspots, sites,
                                                       ehsa_measure, disclosure, ctx.words,
                                                       community)
    views = {**VIEWS, **(SITES_VIEW if sites is not None and len(sites[0]) else {}),
             **(COMMUNITY_VIEW if community is not None else {})}
    x0, y0, x1, y1 = oas.to_crs(4326).total_bounds
    page = self_contained(_build(shapes, outlines, layers, places, labels, views, ctx,
                                 [[y0, x0], [y1, x1]], disclosure).get_root().render())
    (folder / MAP_FILE).write_text(_accessible(page, _title(ctx)), encoding="utf-8")
    note = f"{disclosure.note()}. Predicted risk is the mean of {ctx.words.probabilities}"
    (folder / TABLES_FILE).write_text(table_page(
        [(layer.name, layer.props) for layer in layers], title=_title(ctx),
        subtitle=f"Reference date {ctx.reference_date} · {ctx.vintage}", marking=ctx.marking,
        note=note), encoding="utf-8")
    return {view: f"{MAP_FILE}#{view}" for view in views}


def _title(ctx: MapContext) -> str:
    return f"{ctx.area_name}: {ctx.words.at_risk}"


_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>')


def _accessible(page: str, title: str) -> str:
    """The rendered page with what folium leaves out: its language, a title, a viewport
    that lets the reader zoom, a ``main`` landmark and a skip link past the map to the
    same figures as tables."""
    page = page.replace("<html>", '<html lang="en">', 1)
    page = _VIEWPORT.sub('<meta name="viewport" content="width=device-width, '
                         'initial-scale=1">', page, count=1)
    page = page.replace("<head>", f"<head>\n    <title>{html.escape(title)}: map</title>", 1)
    skip = (f'<a class="gr-skip" href="{TABLES_FILE}">Skip the map: every layer as a '
            "table</a>")
    page = page.replace("<body>", f'<body>\n    {skip}<main id="gr-main">', 1)
    return page.replace("\n</body>", "\n</main></body>", 1)


def svg_preview(oas: gpd.GeoDataFrame, oa_table: pd.DataFrame, hotspots: pd.DataFrame, *,
                width: int = 760) -> str:
    """A static SVG of risk by output area with the areas of concern outlined: the map a
    printed or e-mailed report still shows. Returns an ``<svg>`` element and its legend.
    Shapes are simplified to half a pixel of the drawing (a county's pixel is about 100 m):
    full-resolution boundaries drawn vertex by vertex made a county's report 8.7 MB.

    Parameters
    ----------
    oas : GeoDataFrame
        Output areas in EPSG:27700.
    oa_table : DataFrame
        The published OA table (``mean_risk``).
    hotspots : DataFrame
        Per OA: ``concern``.
    width : int
        The drawing's width in pixels.

    Returns
    -------
    str
        The ``<svg>`` element and its legend, as HTML.
    """
    x0, y0, x1, y1 = oas.total_bounds
    scale = width / (x1 - x0)
    height = int(np.ceil((y1 - y0) * scale))
    half_pixel = 0.5 / scale

    def to_px(x, y):
        return (x - x0) * scale, (y1 - y) * scale

    def d(geom) -> str:
        parts = []
        for poly in getattr(geom, "geoms", [geom]):
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                px = np.round((xy[:, 0] - x0) * scale, 1)
                py = np.round((y1 - xy[:, 1]) * scale, 1)
                parts.append("M" + " L".join(f"{a:g},{b:g}" for a, b in zip(px, py, strict=True))
                             + "Z")
        return "".join(parts)

    t = oa_table.reindex(oas.index)
    classes = risk_classes(t["mean_risk"])
    fills = np.where(t["mean_risk"].isna() & t["children_under5"].isna(), WITHHELD_COLOUR,
                     classes.colour(t["mean_risk"].to_numpy()).to_numpy())
    drawn, _ = _display(oas.geometry, half_pixel)
    shapes = [f'<path d="{d(g)}" fill="{f}"/>' for g, f in zip(drawn, fills, strict=True)]
    for _, row in concern_outlines(oas, hotspots["concern"]).iterrows():
        style = CONCERN_STYLES[row["concern"]][0]
        dash = f' stroke-dasharray="{style["dashArray"]}"' if style["dashArray"] else ""
        path = d(row.geometry.simplify(half_pixel))
        shapes.append(f'<path d="{path}" fill="none" stroke="{CASING["color"]}" '
                      f'stroke-width="{style["weight"] + CASING["extra_weight"]}"/>')
        shapes.append(f'<path d="{path}" fill="none" stroke="{style["color"]}" '
                      f'stroke-width="{style["weight"]}"{dash}/>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="Predicted risk by output area, with areas of concern">'
           f'<g stroke="#777" stroke-width="0.3" stroke-linejoin="round">{"".join(shapes)}'
           f"</g>{_svg_names(oas, t['mean_risk'], to_px)}</svg>")
    legend = _legend_rows(
        [(c, lab, "fill") for c, lab in zip(classes.colours, classes.labels, strict=True)]
        + [(WITHHELD_COLOUR, "withheld (c)", "fill")]
        + [(f"border-top:{s['weight']}px {'dashed' if s['dashArray'] else 'solid'} "
            f"{s['color']}", label, "line") for s, label in CONCERN_STYLES.values()])
    return f'<figure class="gr-preview">{svg}<figcaption>{legend}</figcaption></figure>'


def _svg_names(oas: gpd.GeoDataFrame, risk: pd.Series, to_px, size: float = 11) -> str:
    """The wards' names (a county's districts' when it has more than
    :data:`MOST_LABELS` wards) as SVG text on a white halo, each inside its area; where
    two would overlap, the higher-risk area's is kept."""
    by = C.WARD if oas[C.WARD].nunique() <= MOST_LABELS or C.LAD_NAME not in oas else C.LAD
    name = C.WARD_NAME if by == C.WARD else C.LAD_NAME
    areas = oas[[by, name, "geometry"]].assign(risk=risk.reindex(oas.index).to_numpy())
    groups = areas.dissolve(by, aggfunc={name: "first", "risk": "mean"})
    groups = groups.sort_values("risk", ascending=False, na_position="last", kind="stable")
    texts: list[str] = []
    placed: list[tuple[float, float, float, float]] = []
    for label, point in zip(groups[name].astype(str),
                            shapely.point_on_surface(groups.geometry.to_numpy()), strict=True):
        x, y = to_px(point.x, point.y)
        half_w, half_h = 0.3 * size * len(label), 0.6 * size
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
               for b in placed):
            continue
        placed.append(box)
        texts.append(f'<text x="{x:.1f}" y="{y:.1f}">{html.escape(label)}</text>')
    return (f'<g font-family="system-ui,sans-serif" font-size="{size}" font-weight="600" '
            'text-anchor="middle" dominant-baseline="middle" fill="#0b0c0c" stroke="#fff" '
            f'stroke-width="3" paint-order="stroke" aria-hidden="true">{"".join(texts)}</g>')


# --- self-contained pages ---------------------------------------------------------------

_SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc\s*=\s*["\']([^"\']+)["\'][^>]*>\s*</script>', re.I)
_LINK_HREF = re.compile(r'<link[^>]*\bhref\s*=\s*["\']([^"\']+)["\'][^>]*/?>', re.I)
#: folium's default assets that these maps do not use (removed, not inlined).
_UNUSED = re.compile(r"jquery|bootstrap|awesome-markers|awesome\.rotate|fontawesome", re.I)
_CSS_URL = re.compile(r'url\(\s*["\']?(?:https?:)?//', re.I)


def _leaflet_assets() -> tuple[str, str]:
    from xstatic.pkg import leaflet

    data = Path(leaflet.BASE_DIR)
    js = (data / "leaflet.js").read_text(encoding="utf-8")
    css = (data / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        image = data / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    notice = (f"/* Leaflet {leaflet.VERSION} (https://leafletjs.com), BSD 2-Clause licence, "
              "(c) Vladimir Agafonkin and CloudMade; inlined from the xstatic-leaflet "
              "package */\n")
    return notice + js, notice + css


def _stable_ids(page: str) -> str:
    """folium names elements with random hex ids; number them in order of appearance so
    the same inputs give the same bytes."""
    ids: dict[str, str] = {}

    def number(match: re.Match) -> str:
        return ids.setdefault(match.group(0), f"{len(ids) + 1:04d}")

    return re.sub(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])", number, page)


def external_references(page: str) -> list[str]:
    """Everything a page would fetch from elsewhere: script and link URLs, CSS url()s."""
    found = [u for u in _SCRIPT_SRC.findall(page) if not u.startswith("data:")]
    found += [u for u in _LINK_HREF.findall(page) if not u.startswith("data:")]
    found += [m.group(0) for m in _CSS_URL.finditer(page)]
    return found


def self_contained(page: str) -> str:
    """Inline Leaflet, drop folium's unused CDN assets, and check nothing external is left.

    Raises ``ValueError`` naming any external reference that remains (a plugin someone
    adds later must be inlined too, not silently dropped).
    """
    js, css = _leaflet_assets()
    safe_js = js.replace("</script", "<\\/script")

    def script(match: re.Match) -> str:
        url = match.group(1)
        if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.js$", url):
            return f"<script>{safe_js}</script>"
        return "" if _UNUSED.search(url) else match.group(0)

    def link(match: re.Match) -> str:
        url = match.group(1)
        if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.css$", url):
            return f"<style>{css}</style>"
        return "" if _UNUSED.search(url) else match.group(0)

    page = _stable_ids(page)
    page = _SCRIPT_SRC.sub(script, page)
    page = _LINK_HREF.sub(link, page)
    left = external_references(page)
    if left:
        raise ValueError(f"the page still loads external resources: {left[:5]}")
    return page
