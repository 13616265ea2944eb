"""What people read: symbology, the offline maps, the GeoPackage, the partnership-board
report, the model card and the transparency record.
"""

from geo_risk import _pysal  # noqa: F401  (first: libpysal, esda, mapclassify without numba)
from geo_risk.publish.cube import CUBE_NETCDF, CUBE_PARQUET, cube_table, write_cube
from geo_risk.publish.gpkg import (
    GPKG_LAYERS,
    community_layer,
    cube_layer,
    field_docs,
    site_layers,
    write_geopackage,
)
from geo_risk.publish.maps import (
    CANVAS_ABOVE,
    LEGEND_CSS,
    MAP_FILE,
    VIEWS,
    MapContext,
    external_references,
    interval_text,
    self_contained,
    site_rows,
    svg_preview,
    write_maps,
)
from geo_risk.publish.model_card import (
    INTENDED_USE,
    render_model_card,
    write_model_card,
)
from geo_risk.publish.report import (
    ReportInputs,
    write_report,
)
from geo_risk.publish.symbology import (
    CASING,
    CONCERN_STYLES,
    EHSA_COLOURS,
    NO_DATA_COLOUR,
    SITE_COLOURS,
    WITHHELD,
    WITHHELD_COLOUR,
    Classes,
    long_date,
    risk_classes,
    show_count,
)
from geo_risk.publish.tables import (
    TABLE_CSS,
    TABLES_FILE,
    html_table,
    layer_id,
    table_page,
)
from geo_risk.publish.transparency import (
    ATRS_FIELDS,
    TO_COMPLETE,
    missing_fields,
    privacy_scan,
    write_transparency,
)

__all__ = [
    "ATRS_FIELDS",
    "CANVAS_ABOVE",
    "CASING",
    "CONCERN_STYLES",
    "CUBE_NETCDF",
    "CUBE_PARQUET",
    "EHSA_COLOURS",
    "GPKG_LAYERS",
    "INTENDED_USE",
    "LEGEND_CSS",
    "MAP_FILE",
    "NO_DATA_COLOUR",
    "SITE_COLOURS",
    "TABLES_FILE",
    "TABLE_CSS",
    "TO_COMPLETE",
    "VIEWS",
    "WITHHELD",
    "WITHHELD_COLOUR",
    "Classes",
    "MapContext",
    "ReportInputs",
    "community_layer",
    "cube_layer",
    "cube_table",
    "external_references",
    "field_docs",
    "html_table",
    "interval_text",
    "layer_id",
    "long_date",
    "missing_fields",
    "privacy_scan",
    "render_model_card",
    "risk_classes",
    "self_contained",
    "show_count",
    "site_layers",
    "site_rows",
    "svg_preview",
    "table_page",
    "write_cube",
    "write_geopackage",
    "write_maps",
    "write_model_card",
    "write_report",
    "write_transparency",
]
