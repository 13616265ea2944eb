"""Text from inputs, escaped for where it lands.

Names come from files a council does not control in every detail: ward and LSOA names
from a lookup, site names from a commissioner's list, ``area_name``, ``marking`` and
``attribution`` from a run configuration. Wherever such text is written it is escaped for
that context:

- HTML text and attributes: :func:`html.escape` (report, model card, map titles, legends);
- JSON inside a ``<script>`` element: :func:`script_json`, so no string closes the script;
- map tooltips: built in the browser from text nodes, never ``innerHTML``
  (:mod:`geo_risk.publish.maps`);
- CSV cells: :func:`csv_cell`, OWASP's rule against formula injection, applied to every
  CSV geo-risk writes by :func:`write_csv`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FORMULA_STARTS", "csv_cell", "script_json", "write_csv"]

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def script_json(value) -> str:
    r"""JSON for a ``<script>`` element: ``<``, ``>``, ``&`` and the two JavaScript line
    separators are written as escapes, so no string can close the script or open a tag.

    >>> script_json({"name": "</script><img src=x>"})
    '{"name": "\\u003c/script\\u003e\\u003cimg src=x\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in [("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")]:
        text = text.replace(char, escape)
    return text


def csv_cell(value):
    """A text cell a spreadsheet will not run: one starting with ``= + - @``, a tab or a
    carriage return gets a leading apostrophe. Numbers and other values pass unchanged.

    >>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell("Vange"), csv_cell(-3)
    ('\\'=HYPERLINK("http://x")', 'Vange', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _is_text(dtype) -> bool:
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    text = [c for c in frame.columns if _is_text(frame[c].dtype)]
    out = frame.copy()
    for column in text:
        out[column] = frame[column].map(csv_cell)
    if _is_text(frame.index.dtype):
        out.index = pd.Index(frame.index.map(csv_cell), name=frame.index.name)
    out.columns = [csv_cell(c) if isinstance(c, str) else c for c in frame.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path, **kwargs: Any) -> Path:
    """``frame.to_csv(path, **kwargs)`` with every text cell, index label and heading
    passed through :func:`csv_cell`; returns ``path``.

    Parameters
    ----------
    frame : DataFrame
        The table.
    path : Path
        Where to write it.
    **kwargs
        As :meth:`pandas.DataFrame.to_csv` takes them.

    Returns
    -------
    Path
        ``path``.
    """
    _neutralise(frame).to_csv(path, **kwargs)
    return Path(path)
