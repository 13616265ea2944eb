"""Where needs overlap: each outcome's risk of an area, its interval and its rank, and the
areas in the top fifth for two or more outcomes.

Built only from published area tables (disclosure applied: a withheld risk is missing,
and an area whose risk is withheld is not ranked for that outcome), so the overlap
publishes nothing the runs did not.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["TOP_SHARE", "overlap"]

#: The share of ranked areas counted as an outcome's highest ("the top fifth").
TOP_SHARE = 0.2


def overlap(tables: dict[str, pd.DataFrame], *, top_share: float = TOP_SHARE
            ) -> pd.DataFrame:
    """Each outcome's risk, 95% interval and rank per area, and where they overlap.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Outcome name -> its published table of one level of areas (``mean_risk``,
        ``mean_risk_low95``, ``mean_risk_high95``), indexed by area code.
    top_share : float
        The share of each outcome's ranked areas that counts as its highest.

    Returns
    -------
    DataFrame
        Per area: ``<outcome>_risk``, ``_low95``, ``_high95``, ``_rank`` (1 the highest;
        missing where withheld) for each outcome; ``top_fifth`` (how many outcomes have
        the area among their highest) and ``top_fifth_outcomes`` (which).

    Examples
    --------
    >>> a = pd.DataFrame({"mean_risk": [0.9, 0.1, 0.5, 0.2, 0.3],
    ...                   "mean_risk_low95": 0.0, "mean_risk_high95": 1.0}, index=list("VWXYZ"))
    >>> b = a.assign(mean_risk=[0.8, 0.2, None, 0.1, 0.9])
    >>> o = overlap({"a": a, "b": b})
    >>> o[["a_rank", "b_rank", "top_fifth"]].loc[["V", "X", "Z"]]
       a_rank  b_rank  top_fifth
    V       1       2          1
    X       2    <NA>          0
    Z       3       1          1
    >>> o.loc[["V", "X", "Z"], "top_fifth_outcomes"].tolist()
    ['a', '', 'b']
    """
    index = sorted(set().union(*(t.index for t in tables.values())))
    columns, top = {}, {}
    for name, table in tables.items():
        table = table.reindex(index)
        risk = pd.to_numeric(table["mean_risk"], errors="coerce")
        rank = risk.rank(ascending=False, method="min")
        columns.update({
            f"{name}_risk": risk,
            f"{name}_low95": pd.to_numeric(table["mean_risk_low95"], errors="coerce"),
            f"{name}_high95": pd.to_numeric(table["mean_risk_high95"], errors="coerce"),
            f"{name}_rank": rank.astype("Int64")})
        top[name] = rank <= math.ceil(top_share * risk.notna().sum())
    out = pd.DataFrame(columns, index=pd.Index(index, name=next(iter(tables.values())
                                                               ).index.name))
    highest = pd.DataFrame(top, index=out.index)
    out["top_fifth"] = highest.sum(axis=1).astype(int)
    out["top_fifth_outcomes"] = highest.apply(
        lambda row: "; ".join(n for n, high in row.items() if high), axis=1)
    return out
