"""The model card, in Markdown and HTML from the same content."""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["render_model_card"]

INTENDED_USE = ("Decision support for planning and early help; not for eligibility or "
                "enforcement decisions.")


def _table_md(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.to_numpy()]
    return "\n".join(lines)


def _table_html(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.to_numpy())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_model_card(sections: list[tuple[str, list[str | pd.DataFrame]]],
                      title: str) -> tuple[str, str]:
    """Render sections (heading, paragraphs and tables) as Markdown and as one HTML page."""
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, parts in sections:
        md += [f"## {heading}", ""]
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for part in parts:
            if isinstance(part, pd.DataFrame):
                md += [_table_md(part), ""]
                body.append(_table_html(part))
            else:
                md += [part, ""]
                body.append(f"<p>{html.escape(part)}</p>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
             "padding:0 1rem;color:#222}table{border-collapse:collapse;margin:1rem 0}"
             "td,th{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}"
             "th{background:#eee}")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")
    return "\n".join(md), page
