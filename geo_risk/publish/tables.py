"""Every map layer as a table: the same areas, figures and categories as the map's
tooltips, for anyone who cannot use the map (WCAG 1.1.1 and 1.3.1: a map that is not for
navigation gives its information in another form).

One page, ``maps/tables.html``, a captioned table per layer with header scopes; each
column sorts from a button in its header, so the page works with a keyboard and a screen
reader, and without JavaScript it is still every row in the map's order.
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["TABLES_FILE", "TABLE_CSS", "html_table", "layer_id", "table_page"]

TABLES_FILE = "tables.html"

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#0b0c0c}
main{max-width:72rem;margin:0 auto;padding:0 1rem 2rem}
.gr-skip{position:absolute;left:-999px;top:0;background:#fd0;color:#0b0c0c;padding:.5rem}
.gr-skip:focus{left:.5rem;z-index:10}
:focus-visible{outline:3px solid #0b0c0c;outline-offset:2px;box-shadow:0 0 0 5px #fd0}
.gr-wrap{margin:0 0 2rem}
table{border-collapse:collapse;font-size:14px}
caption{text-align:left;font-weight:600;font-size:1.15rem;padding:.5rem 0}
th,td{border-bottom:1px solid #b1b4b6;padding:.3rem .6rem;text-align:left;vertical-align:top}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;
 text-align:left;color:#1d70b8;text-decoration:underline}
nav ul{padding-left:1.2rem}
"""

_SORT_JS = """
document.querySelectorAll('table[data-sortable] th button').forEach(function(b) {
  b.addEventListener('click', function() {
    var th = b.parentNode, table = th.closest('table'), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var up = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th[aria-sort]').forEach(function(t) {
      t.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
    function key(row) {
      var text = row.children[col].textContent.trim();
      var n = parseFloat(text.replace(/[,%]/g, ''));
      return isNaN(n) ? [1, text.toLowerCase()] : [0, n];
    }
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b) {
      var x = key(a), y = key(b);
      var order = x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
      return up ? order : -order;
    });
    rows.forEach(function(r) { body.appendChild(r); });
  });
});
"""


def layer_id(name: str) -> str:
    """The anchor of a layer's table (``tables.html#layer-risk-by-ward``).

    >>> layer_id("Risk by ward")
    'layer-risk-by-ward'
    """
    return "layer-" + "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


#: The accessibility statement, from ``publish/maps/``.
STATEMENT = "../transparency/accessibility.html"


def table_page(layers: list[tuple[str, pd.DataFrame]], *, title: str, subtitle: str,
               marking: str, note: str) -> str:
    """The page of every layer's table.

    Parameters
    ----------
    layers : list of (str, DataFrame)
        Each layer's name and its rows as the map's tooltips show them (label -> text;
        columns starting with ``_`` are the map's own and left out).
    title : str
        The map's title (place and subject).
    subtitle : str
        Its reference date and geography.
    marking : str
        The handling marking ("" for none).
    note : str
        What ``c`` means, and how the figures were made.

    Returns
    -------
    str
        The HTML page.
    """
    e = html.escape
    contents = "".join(f'<li><a href="#{layer_id(name)}">{e(name)}</a> ({len(rows):,} '
                       "rows)</li>" for name, rows in layers)
    tables = "".join(_table(name, rows) for name, rows in layers)
    mark = f'<p><strong>{e(marking)}</strong></p>' if marking else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}: every map layer as a table</title>"
        f"<style>{TABLE_CSS}{_CSS}</style></head>"
        '<body><a class="gr-skip" href="#gr-main">Skip to the tables</a>'
        f'<main id="gr-main">{mark}<h1>{e(title)}: every map layer as a table</h1>'
        f"<p>{e(subtitle)}</p>"
        f'<p>The same areas and figures as the map (<a href="map.html">back to the map</a>)'
        f". {e(note)}. Sort a table by any column with the button in its header. The "
        f'<a href="{STATEMENT}">accessibility statement</a> says how these pages were '
        "checked.</p>"
        f'<nav aria-label="Layers"><ul>{contents}</ul></nav>{tables}</main>'
        f"<script>{_SORT_JS}</script></body></html>\n")


def _table(name: str, rows: pd.DataFrame) -> str:
    """A layer's table, its area code first: the header of each row."""
    first = [c for c in ["code", "Site"] if c in rows.columns][:1]
    rows = rows[first + [c for c in rows.columns if c not in first]]
    return (f'<section id="{layer_id(name)}">'
            + html_table(rows, name, sortable=True) + "</section>")


#: The wrapper scrolls a wide table inside itself, so the page reflows at 320 px.
TABLE_CSS = (".gr-wrap{overflow-x:auto;max-width:100%}"
             "caption{text-align:left;font-weight:600;padding:.4rem 0}")


def html_table(frame: pd.DataFrame, caption: str, *, sortable: bool = False) -> str:
    """A table as every published page writes one: a caption, column headers with
    ``scope="col"``, the first cell of each row its header (``scope="row"``), text escaped,
    in a focusable region that scrolls on a narrow screen instead of the page.

    Parameters
    ----------
    frame : DataFrame
        The rows, as text or numbers (columns starting with ``_`` are left out).
    caption : str
        What the table is.
    sortable : bool
        Headers as buttons that sort the column (the table page's script).

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> html_table(pd.DataFrame({"Ward": ["<b>Vange</b>"], "Risk": ["73%"]}), "Wards")[:60]
    '<div class="gr-wrap" role="region" aria-label="Wards" tabind'
    """
    e = html.escape
    columns = [c for c in frame.columns if not str(c).startswith("_")]
    head = "".join(f'<th scope="col"><button type="button">{e(str(c))}</button></th>'
                   if sortable else f'<th scope="col">{e(str(c))}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(
            (f'<th scope="row">{e(_text(v))}</th>' if i == 0 else f"<td>{e(_text(v))}</td>")
            for i, v in enumerate(values)) + "</tr>"
        for values in frame[columns].itertuples(index=False, name=None))
    sort = " data-sortable" if sortable else ""
    return (f'<div class="gr-wrap" role="region" aria-label="{e(caption)}" tabindex="0">'
            f"<table{sort}><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)
