"""The GeoPackage for GIS teams: published layers, QGIS default styles and run details.

One file, GeoPackage 1.2 (GDAL's newer default, 1.4, makes older QGIS warn), EPSG:27700,
one layer per output, geometry column ``geom`` with a spatial index, GSS codes with their
vintage in the field names (``oa11cd``, ``lsoa11cd``, ``wd13cd``). Counts are the
published ones, after the same disclosure control as the maps: a withheld count is NULL
and the ``withheld`` field names the withheld columns (the styles label them ``c``).

Every layer gets a default QGIS style in ``layer_styles`` (QGIS's own table:
``f_table_schema`` empty, ``f_geometry_column`` = ``geom``, ``useAsDefault`` = 1) drawn
from :mod:`geo_risk.publish.symbology`, so QGIS shows what the HTML maps show. ``run_info`` is an
attribute table of what produced the file: run date, version, inputs, reference date,
model metrics, disclosure rules, licence and attribution.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import pandas as pd
import pyogrio

from geo_risk import columns as C
from geo_risk.areas.disclosure import COUNT_COLUMNS
from geo_risk.areas.hotspots import concern_outlines
from geo_risk.geography.vintage import VINTAGE_2011, Vintage
from geo_risk.model.outcomes import SCHOOL_READINESS, Outcome
from geo_risk.publish.symbology import (
    COMMUNITY_COLOURS,
    CONCERN_STYLES,
    EHSA_COLOURS,
    NO_DATA_COLOUR,
    SITE_COLOURS,
    WITHHELD_COLOUR,
    Classes,
    lisa_colours,
    risk_classes,
)

__all__ = ["GPKG_LAYERS", "cube_layer", "field_docs", "fields", "site_layers",
           "write_geopackage"]

GPKG_LAYERS = ["oa_risk", "lsoa_risk", "ward_risk", "lisa", "emerging_hotspots",
               "areas_of_concern", "space_time_cube"]
_LAYER_OPTIONS = {"GEOMETRY_NAME": "geom", "SPATIAL_INDEX": "YES"}


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _fill_symbol(name: str, colour: str, *, outline: str = "#666666", width: float = 0.1,
                 brush: str = "solid", line: str = "solid") -> str:
    options = {"color": _rgba(colour), "outline_color": _rgba(outline),
               "outline_width": str(width), "outline_width_unit": "MM", "style": brush,
               "outline_style": line, "joinstyle": "round"}
    opts = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in
                   options.items())
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">'
            f'<Option type="Map">{opts}</Option></layer></symbol>')


def _marker_symbol(name: str, colour: str) -> str:
    options = {"color": _rgba(colour), "outline_color": "35,35,35,255", "size": "3",
               "size_unit": "MM", "name": "circle"}
    opts = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in
                   options.items())
    return (f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><layer class="SimpleMarker" enabled="1" pass="0" locked="0">'
            f'<Option type="Map">{opts}</Option></layer></symbol>')


def site_layers(sites: gpd.GeoDataFrame, catchments: gpd.GeoDataFrame
                ) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """``service_sites`` and ``site_catchments`` with their styles (as the HTML maps).

    Parameters
    ----------
    sites : GeoDataFrame
        The chosen and existing sites.
    catchments : GeoDataFrame
        Each site's catchment.

    Returns
    -------
    dict of str to (GeoDataFrame, str)
        Layer name -> (frame, QML style).
    """
    statuses = list(dict.fromkeys(sites["status"]))
    cats = "".join(f'<category render="true" symbol="{i}" value={quoteattr(v)} '
                   f"label={quoteattr(v)}/>" for i, v in enumerate(statuses))
    symbols = "".join(_marker_symbol(str(i), SITE_COLOURS["existing" if v == "existing"
                                                           else "new"])
                      for i, v in enumerate(statuses))
    point_qml = _qml(f'<renderer-v2 type="categorizedSymbol" attr="status" symbollevels="0" '
                     f'enableorderby="0" forceraster="0"><categories>{cats}</categories>'
                     f"<symbols>{symbols}</symbols></renderer-v2>")
    outline = _fill_symbol("0", SITE_COLOURS["new"], outline=SITE_COLOURS["new"], width=0.5,
                           brush="no", line="dot")
    area_qml = _qml(f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
                    f'forceraster="0"><symbols>{outline}</symbols></renderer-v2>')
    return {"service_sites": (sites, point_qml), "site_catchments": (catchments, area_qml)}


#: Every published field: (alias, description), written to the GeoPackage schema extension
#: (``gpkg_data_columns``, which GDAL and ArcGIS read) and as QGIS aliases in each style;
#: the outcome's words left open (:func:`fields` fills them).
_FIELDS: dict[str, tuple[str, str]] = {
    "children_under5": ("{People}", "{Scored} scored at the reference date, rounded to 5; "
                        "NULL where withheld (a count from 1 to the run's withhold_up_to, "
                        "or one that would reveal it)"),
    "households": ("Households", "{Households} scored, rounded; NULL where withheld"),
    "expected_not_ready": ("{expected}", "The sum of {probabilities}, rounded; NULL where "
                           "withheld"),
    "flagged_households": ("Households flagged", "Households in the flagged capacity, "
                           "rounded; NULL where withheld"),
    "flagged_unknown": ("Flagged, unknown to services", "Flagged households with no "
                        "{known_means} open or recently ended; NULL where withheld"),
    "known_households": ("Households known to services", "Households with an episode open "
                         "or recently ended, rounded; NULL where withheld"),
    "mean_risk": ("Predicted risk", "Mean predicted probability of {risk_of} among the "
                  "area's {population} (0-1); NULL where withheld"),
    "mean_risk_low95": ("Predicted risk, 95% interval, lower", "Lower end of the 95% "
                        "interval of mean_risk, households resampled (not the model's own "
                        "uncertainty)"),
    "mean_risk_high95": ("Predicted risk, 95% interval, upper", "Upper end of the 95% "
                         "interval of mean_risk"),
    "mean_risk_low998": ("Predicted risk, 99.8% interval, lower", "Lower end of the 99.8% "
                         "interval of mean_risk"),
    "mean_risk_high998": ("Predicted risk, 99.8% interval, upper", "Upper end of the 99.8% "
                          "interval of mean_risk"),
    "vs_district": ("Compared with the district", "higher, similar or lower: whether the "
                    "district's predicted risk (a district's: the whole area's) lies below, "
                    "inside or above this area's 95% interval"),
    "eb_risk": ("Smoothed rate (comparison only)", "Empirical-Bayes rate of expected "
                "{event_short} over {units}, shrunk toward the overall rate where {units} "
                "are few; mean_risk is the figure to use (a mean of model probabilities "
                "needs no smoothing), so the two differ most in small areas"),
    "risk_band": ("Risk band", "The class of mean_risk the maps draw; 'withheld (c)' where "
                  "the risk is withheld"),
    "withheld": ("Withheld", "The fields withheld for this area (disclosure control)"),
    "lisa_quadrant": ("Cluster (LISA)", "Local Moran's I cluster of predicted risk: "
                      "high-high, low-low, high-low, low-high, not significant (false "
                      "discovery rate 5% unless run.json's hotspots settings say otherwise); "
                      "'withheld' where the area's risk is withheld"),
    "lisa_last": ("Cluster at the last refresh", "Local Moran's I cluster of the area's "
                  "mean predicted risk at the last refresh, as lisa_quadrant is read at "
                  "each refresh; 'withheld' where the area's risk is withheld"),
    "lisa_since": ("Cluster since", "The refresh (date) from which the area has been in "
                   "that cluster without a break"),
    "lisa_from": ("Cluster before", "The area's cluster before then; empty when it has "
                  "been in it at every refresh"),
    "p_sim": ("Cluster p-value", "Pseudo p-value of the local Moran statistic "
              "(conditional permutations); NULL where withheld"),
    "ehsa_category": ("Emerging hot spot category", "Emerging hot spot analysis over the "
                      "refreshes (Gi* each refresh, Mann-Kendall trend), as ArcGIS names "
                      "the categories"),
    "ehsa_stability": ("Category stability", "Share of household resamples giving the same "
                       "category; 0.8 or more is stable"),
    "rise": ("Rise over the last year", "Rise of the mean predicted risk of the area and "
             "its neighbours over the last four refreshes, less the district's median rise"),
    "rise_z": ("Rise z-score", "That rise over its standard error (households resampled)"),
    "rising": ("Rising", "1 where the rise is significant (false discovery rate 5% unless "
               "run.json's hotspots settings say otherwise) and "
               "the area's risk is now above the district's"),
    "emerging": ("Emerging", "1 where the area is emerging: a new, consecutive or "
                 "intensifying hot spot, or rising"),
    "trend_tau": ("Trend (Kendall's tau)", "Mann-Kendall tau of the area's Gi* z-score "
                  "over the refreshes"),
    "trend_p": ("Trend p-value", "Mann-Kendall p-value of that trend"),
    "gi_z": ("Gi* z-score", "Getis-Ord Gi* z-score of predicted risk at the reference "
             "date"),
    "top_fifth": ("Outcomes in whose top fifth", "How many of the outcomes compared have "
                  "the area among their highest fifth of predicted risk"),
    "top_fifth_outcomes": ("Which outcomes", "The outcomes that have the area in their top "
                           "fifth"),
    "view": ("Community and data", "Whether the data (an area of concern), the community "
             "(named in consultations) or both see concern here, or neither"),
    "data_concern": ("Data: area of concern", "In a known or newly identified area of "
                     "concern"),
    "community_named": ("Community: named", "Named by residents, community groups or "
                        "frontline staff in the consultations imported"),
    "themes": ("Community themes", "The themes named here, most often named first"),
    "concern": ("Area of concern", "known: risk concentrates where services already work; "
                "newly identified: where they do not"),
    "refresh": ("Refresh", "The refresh (quarter end) this row of the space-time cube is "
                "for"),
    "risk": ("Predicted risk at the refresh", "Mean predicted risk of the area's "
             "{population} at this refresh; NULL where withheld (from 1 to the withheld "
             "number of {population} then, or withheld at the reference date)"),
    "risk_se": ("Standard error", "Standard error of risk, households resampled; NULL "
                "where withheld"),
    "hs_z": ("Bin's Gi* z-score", "Getis-Ord Gi* z-score of the emerging hot spot "
             "measure in this bin (area and refresh), with the run's settings; NULL for a "
             "refresh that only gives the analysis its history"),
    "hs_p": ("Bin's Gi* p-value", "Two-sided p-value of hs_z"),
    "hs_bin": ("Hot or cold spot", "1: a hot spot in this bin, -1: a cold spot, 0: "
               "neither, or a refresh that only gives the analysis its history"),
    "output_areas": ("Output areas", "Output areas in this area of concern"),
    "wards": ("Wards", "Wards the area of concern lies in"),
    "name": ("Site", "The site's name as the list of sites gives it"),
    "kind": ("Kind", "The kind of building"),
    "status": ("Status", "existing, or new site n in the order chosen"),
    "newly_covered": ("Reaches (expected {event_short})", "Expected {demand} the site "
                      "reaches (a new site: those no site above it reaches), rounded; NULL "
                      "where withheld"),
    "cumulative_coverage": ("Share reached, cumulative", "Share of all expected {demand} "
                            "within reach of this site and those above it (0-1)"),
    "key": ("Setting", "What the run records"),
    "value": ("Value", "Its value"),
}


def fields(words: Outcome = SCHOOL_READINESS) -> dict[str, tuple[str, str]]:
    """Every published field of a run of ``words``, under its published name: (alias,
    description).

    >>> from geo_risk.model import get_outcome
    >>> fields(get_outcome("domestic_abuse_escalation"))["expected_escalations"][0]
    'Expected escalations'
    """
    said = {"People": words.people.capitalize(), "Scored": words.scored_short,
            "Households": words.households.capitalize(), "expected": words.expected,
            "probabilities": words.probabilities, "known_means": words.known_means,
            "risk_of": words.risk_of, "population": words.population,
            "event_short": words.event_short, "units": words.unit[1],
            "demand": words.demand}
    return {words.field(name): (alias.format(**said), text.format(**said))
            for name, (alias, text) in _FIELDS.items()}


#: Area code and name fields, by internal column (named as the run's vintage publishes).
_AREA_FIELDS = {C.OA: ("Output area code", "ONS output area code"),
                C.LSOA: ("LSOA code", "ONS lower layer super output area code"),
                C.LSOA_NAME: ("LSOA name", "ONS lower layer super output area name"),
                C.WARD: ("Ward code", "ONS electoral ward code"),
                C.WARD_NAME: ("Ward", "Electoral ward name"),
                C.LAD: ("District code", "ONS local authority district code"),
                C.LAD_NAME: ("District", "Local authority district name")}


def cube_layer(cube: gpd.GeoDataFrame) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The space-time cube (:mod:`geo_risk.publish.cube`'s GeoParquet) as a GeoPackage
    layer that QGIS opens ready for its temporal controller: each row shown for the three
    months from its refresh, and coloured by whether the bin is a hot or cold spot.

    Parameters
    ----------
    cube : GeoDataFrame
        The long cube: one row per output area and refresh (``refresh``, a date).

    Returns
    -------
    dict
        ``{"space_time_cube": (frame, QML style)}``, for ``extra_layers``.
    """
    qml = _categorised("hs_bin", [("1", "#d7191c", "hot spot"),
                                  ("-1", "#2c7bb6", "cold spot"),
                                  ("0", "#f7f7f7", "neither (or a refresh of history only)")])
    temporal = ('<temporal enabled="1" mode="1" startField="refresh" endField="" '
                'durationField="" durationUnit="mon" fixedDuration="3" accumulate="0" '
                'limitMode="0" startExpression="" endExpression=""><fixedRange><start/>'
                "<end/></fixedRange></temporal>")
    qml = qml.replace('styleCategories="Symbology">',
                      'styleCategories="Symbology|Temporal">' + temporal, 1)
    return {"space_time_cube": (cube, qml)}


def community_layer(by_oa: gpd.GeoDataFrame) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """What the community says beside the areas of concern, by output area
    (:func:`geo_risk.areas.community.agreement`), as a GeoPackage layer styled by view.

    Parameters
    ----------
    by_oa : GeoDataFrame
        Per output area (index): ``data_concern``, ``community_named``, ``themes``,
        ``view``, and the area's polygon.

    Returns
    -------
    dict
        ``{"community_view": (frame, QML style)}``, for ``extra_layers``.
    """
    qml = _categorised("view", [(v, c, v) for v, c in COMMUNITY_COLOURS.items()])
    frame = by_oa.reset_index()
    frame["data_concern"] = frame["data_concern"].astype(bool)
    frame["community_named"] = frame["community_named"].astype(bool)
    return {"community_view": (frame, qml)}


def field_docs(vintage: Vintage = VINTAGE_2011, words: Outcome = SCHOOL_READINESS
               ) -> dict[str, tuple[str, str]]:
    """Every published field's alias and description in the outcome's ``words``, area
    fields named as ``vintage`` publishes them.

    >>> field_docs()["wd13nm"]
    ('Ward', 'Electoral ward name')
    """
    return {**fields(words), **{vintage.fields[k]: v for k, v in _AREA_FIELDS.items()}}


def _write_field_docs(path: Path, docs: dict[str, tuple[str, str]]) -> None:
    """The GeoPackage schema extension's ``gpkg_data_columns``: a title (alias) and a
    description for every field of every table."""
    with sqlite3.connect(path) as db:
        db.execute("""CREATE TABLE IF NOT EXISTS gpkg_data_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
            description TEXT, mime_type TEXT, constraint_name TEXT,
            CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
            CONSTRAINT gdc_tn UNIQUE (table_name, name))""")
        db.execute("""CREATE TABLE IF NOT EXISTS gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
            definition TEXT NOT NULL, scope TEXT NOT NULL,
            CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""")
        tables = [t for (t,) in db.execute("SELECT table_name FROM gpkg_contents "
                                           "WHERE table_name != 'layer_styles'")]
        rows = []
        for table in tables:
            for column in [c[1] for c in db.execute(f'PRAGMA table_info("{table}")')]:
                if column in docs:
                    alias, description = docs[column]
                    rows.append((table, column, alias, alias, description))
        db.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, "
                       "name, title, description) VALUES (?, ?, ?, ?, ?)", rows)
        db.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, "
                   "'gpkg_schema', 'http://www.geopackage.org/spec121/#extension_schema', "
                   "'read-write')")


def _aliases(qml: str, docs: dict[str, tuple[str, str]], columns: list[str]) -> str:
    """``qml`` with each field's alias, as QGIS reads them from a style."""
    entries = "".join(f'<alias field={quoteattr(c)} index="{i}" name={quoteattr(docs[c][0])}/>'
                      for i, c in enumerate(columns) if c in docs)
    return qml.replace("</qgis>", f"<aliases>{entries}</aliases></qgis>")


def _qml(renderer: str) -> str:
    return f'<qgis version="3.22.0" styleCategories="Symbology">{renderer}</qgis>'


def _risk_style(classes: Classes, words: Outcome) -> str:
    """The risk layers' style: a category per class of ``risk_band``, as the maps draw it,
    and the withheld areas grey (their risk is NULL: a graduated style on ``mean_risk``
    left them unfilled, so they vanished); the empty category, QGIS's 'all other values',
    is an area with nobody scored."""
    return _categorised("risk_band", [
        *((label, colour, label) for label, colour in zip(classes.labels, classes.colours,
                                                          strict=True)),
        ("withheld (c)", WITHHELD_COLOUR, f"withheld (c): too few {words.population} to "
                                          "publish"),
        ("", NO_DATA_COLOUR, f"no {words.population} scored")])


def _categorised(field: str, categories: list[tuple[str, str, str]], *,
                 outlines: dict[str, tuple[str, str]] | None = None) -> str:
    """categories: (value, colour, label); outlines: value -> (colour, line style) for
    outline-only symbols."""
    cats, symbols = [], []
    for i, (value, colour, label) in enumerate(categories):
        cats.append(f'<category render="true" symbol="{i}" value={quoteattr(value)} '
                    f"label={quoteattr(label)}/>")
        if outlines and value in outlines:
            line_colour, line = outlines[value]
            symbols.append(_fill_symbol(str(i), line_colour, outline=line_colour, width=0.8,
                                        brush="no", line=line))
        else:
            symbols.append(_fill_symbol(str(i), colour))
    return _qml(f'<renderer-v2 type="categorizedSymbol" attr="{field}" symbollevels="0" '
                f'enableorderby="0" forceraster="0"><categories>{"".join(cats)}</categories>'
                f'<symbols>{"".join(symbols)}</symbols></renderer-v2>')


def _withheld(table: pd.DataFrame, words: Outcome) -> pd.Series:
    """The count fields withheld in each row, by their published names."""
    counts = [c for c in COUNT_COLUMNS if c in table]
    return table[counts].isna().apply(
        lambda row: ", ".join(words.field(c) for c, hidden in row.items() if hidden), axis=1)


def _area_layer(shapes: gpd.GeoDataFrame, table: pd.DataFrame, classes: Classes,
                words: Outcome) -> gpd.GeoDataFrame:
    """An area level's published layer, its counts under the outcome's field names."""
    out = shapes.join(table.drop(columns=[c for c in table.columns if c in shapes]))
    out["risk_band"] = classes.label(out["mean_risk"].to_numpy()).to_numpy()
    out["withheld"] = _withheld(out, words).to_numpy()
    out.loc[out["children_under5"].isna(), "risk_band"] = "withheld (c)"
    for column in COUNT_COLUMNS:
        if column in out:
            out[column] = out[column].astype("Int64")
    return out.rename(columns=words.fields).reset_index()


def write_geopackage(path: Path, oas: gpd.GeoDataFrame, tables: dict[str, pd.DataFrame],
                     hotspots: pd.DataFrame, run_info: dict[str, str], *,
                     extra_layers: dict[str, tuple[gpd.GeoDataFrame, str]] | None = None,
                     vintage: Vintage = VINTAGE_2011,
                     words: Outcome = SCHOOL_READINESS) -> Path:
    """Write the published layers, their QGIS styles and ``run_info`` to ``path``.

    Parameters
    ----------
    oas
        Output areas (EPSG:27700) indexed by OA code with the lookup columns.
    tables
        Published (disclosure-controlled) tables by level: ``oa``, ``lsoa``, ``ward``
        (and ``district``, a ``district_risk`` layer when there are several).
    hotspots
        Per OA: ``lisa_quadrant``, ``p_sim``, ``gi_z``, ``ehsa_category``, ``trend_tau``,
        ``trend_p`` and ``concern``.
    run_info
        Key -> value rows of the ``run_info`` table.
    extra_layers
        More layers (e.g. service sites) as name -> (frame in EPSG:27700, QML style).
    vintage
        The run's geography: area fields are named as it publishes them (``oa21cd``, ...).
    words
        The run's outcome: its counts' published names, and its words in the styles and
        the field descriptions.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    layers: dict[str, tuple[gpd.GeoDataFrame, str]] = {}

    oa_shapes = oas[[C.LSOA, C.WARD, C.WARD_NAME, "geometry"]]
    classes = risk_classes(tables["oa"]["mean_risk"])
    layers["oa_risk"] = (_area_layer(oa_shapes, tables["oa"], classes, words),
                         _risk_style(classes, words))
    several = C.LAD in oas and oas[C.LAD].nunique() > 1  # a county: its districts too
    for level, code in [("lsoa", C.LSOA), ("ward", C.WARD)] + ([("district", C.LAD)]
                                                                 if several else []):
        if level not in tables:
            continue
        shapes = oas[[code, "geometry"]].dissolve(code)
        classes = risk_classes(tables[level]["mean_risk"])
        layers[f"{level}_risk"] = (_area_layer(shapes, tables[level], classes, words),
                                   _risk_style(classes, words))

    h = hotspots.reindex(oas.index)
    if "ehsa_stability" not in h:  # a run from before stability was measured
        h["ehsa_stability"] = float("nan")
    for column in ["rise", "rise_z", "rising", "emerging"]:  # a run from before the rise
        if column not in h:
            h[column] = float("nan") if column.startswith("rise") else False
    for column in ["rising", "emerging"]:
        h[column] = h[column].fillna(False).astype(bool).astype(int)
    base = oas[[C.WARD_NAME, "geometry"]].join(h)
    lisa = base[[C.WARD_NAME, "lisa_quadrant", "p_sim",
                 *[c for c in ["lisa_last", "lisa_since", "lisa_from"] if c in base],
                 "geometry"]].reset_index()
    layers["lisa"] = (lisa, _categorised("lisa_quadrant", [
        (q, colour, label) for q, (colour, label) in lisa_colours(words).items()]))
    ehsa = base[[C.WARD_NAME, "ehsa_category", "ehsa_stability", "emerging", "rising",
                 "rise", "rise_z", "trend_tau", "trend_p", "gi_z", "geometry"]]
    layers["emerging_hotspots"] = (ehsa.reset_index(), _categorised(
        "ehsa_category", [(c, colour, c) for c, colour in EHSA_COLOURS.items()]))

    parts = concern_outlines(oas, h["concern"])
    outlines = {k: (s["color"], "dash" if s["dashArray"] else "solid")
                for k, (s, _) in CONCERN_STYLES.items()}
    layers["areas_of_concern"] = (parts, _categorised(
        "concern", [(k, s["color"], label) for k, (s, label) in CONCERN_STYLES.items()],
        outlines=outlines))
    layers.update(extra_layers or {})
    return write_styled_layers(path, layers, vintage, field_docs(vintage, words), run_info)


def write_styled_layers(path: Path, layers: dict[str, tuple[gpd.GeoDataFrame, str]],
                        vintage: Vintage, docs: dict[str, tuple[str, str]],
                        run_info: dict) -> Path:
    """Write ``layers`` (name -> (frame in EPSG:27700, QML style)) as a GeoPackage 1.2 with
    each style the layer's default, its fields' aliases and descriptions, and a
    ``run_info`` table.

    Parameters
    ----------
    path : Path
        The GeoPackage to write (new).
    layers : dict
        Layer name -> (frame with a ``geometry``, QML style).
    vintage : Vintage
        The geography: area fields named as it publishes them.
    docs : dict
        Field name -> (alias, description).
    run_info : dict
        What made the file, as a table.

    Returns
    -------
    Path
        ``path``.
    """
    first = True
    styles = {}
    for name, (frame, qml) in layers.items():
        frame = gpd.GeoDataFrame(vintage.publish(frame), geometry="geometry", crs=27700)
        styles[name] = _aliases(qml, docs, [c for c in frame.columns if c != "geometry"])
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                                layer_options=_LAYER_OPTIONS,
                                dataset_options={"VERSION": "1.2"} if first else None)
        first = False
    info = pd.DataFrame({"key": list(run_info), "value": [str(v) for v in run_info.values()]})
    pyogrio.write_dataframe(info, path, layer="run_info", driver="GPKG")
    _write_styles(path, styles)
    _write_field_docs(path, docs)
    return path


#: The overlap layer's colours: in no outcome's top fifth, in one's, in two or more.
OVERLAP_COLOURS = ["#f7f7f7", "#fdbe85", "#d94701", "#8c2d04"]


def overlap_layer(found: gpd.GeoDataFrame, outcomes: list[str]
                  ) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """Where needs overlap (:func:`geo_risk.areas.overlap.overlap`, with each area's
    polygon) as a layer styled by how many outcomes have the area in their top fifth.

    Parameters
    ----------
    found : GeoDataFrame
        The overlap table with a ``geometry``.
    outcomes : list of str
        The outcomes compared.

    Returns
    -------
    dict
        ``{"needs_overlap": (frame, QML style)}``.
    """
    colours = OVERLAP_COLOURS + [OVERLAP_COLOURS[-1]] * len(outcomes)
    labels = ["in no outcome's top fifth", "in one outcome's top fifth"] + [
        f"in the top fifth of {n} outcomes" for n in range(2, len(outcomes) + 1)]
    qml = _categorised("top_fifth", [(str(n), colours[n], labels[n])
                                     for n in range(len(outcomes) + 1)])
    return {"needs_overlap": (found.reset_index(), qml)}


def _write_styles(path: Path, styles: dict[str, str]) -> None:
    """QGIS's ``layer_styles`` table, registered as a GeoPackage attributes table."""
    with sqlite3.connect(path) as db:
        db.execute("""CREATE TABLE layer_styles (
            id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
            f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
            styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
            description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)""")
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui, update_time) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', '', "
            "NULL)",
            [(name, f"{name} (geo-risk)", qml, "geo-risk default style, as the HTML maps")
             for name, qml in styles.items()])
        db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                   "description, srs_id) VALUES ('layer_styles', 'attributes', "
                   "'layer_styles', 'QGIS layer styles', 0)")
