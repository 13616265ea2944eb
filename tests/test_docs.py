"""The stages' interfaces are documented as numpydoc asks: what the run layer calls from
a stage package has its parameters annotated and described, and says what it returns."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geo_risk"
FACES = {"areas", "geography", "governance", "inputs", "io", "model", "publish", "siting"}


def _interface() -> list[tuple[str, str]]:
    """(stage, name) of each function the run layer, the CLI and the config import from a
    stage package's face."""
    used = set()
    callers = [*(PACKAGE / "run").glob("*.py"), PACKAGE / "cli.py", PACKAGE / "config.py"]
    for path in callers:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in {f"geo_risk.{f}"
                                                                    for f in FACES}:
                used |= {(node.module.split(".")[1], a.name) for a in node.names}
    return sorted((stage, name) for stage, name in used if inspect.isfunction(
        getattr(importlib.import_module(f"geo_risk.{stage}"), name)))


@pytest.mark.parametrize(("stage", "name"), _interface())
def test_each_stage_function_the_run_calls_is_documented(stage, name):
    function = getattr(importlib.import_module(f"geo_risk.{stage}"), name)
    doc = inspect.getdoc(function) or ""
    signature = inspect.signature(function)
    unannotated = [p for p, v in signature.parameters.items()
                   if v.annotation is inspect.Parameter.empty]
    assert not unannotated, f"{stage}.{name}: {unannotated} have no annotation"
    if signature.parameters:
        assert "Parameters\n----------" in doc, f"{stage}.{name} documents no parameters"
        for parameter in signature.parameters:
            assert parameter.lstrip("*") in doc, f"{stage}.{name}: {parameter} undescribed"
    if signature.return_annotation not in {None, "None"}:
        assert ("Returns\n-------" in doc or "Yields\n------" in doc), \
            f"{stage}.{name} does not say what it returns"


def test_the_interface_is_found():
    assert len(_interface()) > 40


def _slug(heading: str) -> str:
    """A Markdown heading's anchor as GitHub makes it."""
    import re

    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_link_in_the_readme_and_docs_resolves():
    """Each relative link names a file that exists, and each anchor a heading of it."""
    import re

    root = PACKAGE.parent
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    assert len(pages) > 5
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+://", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and file.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", file.read_text(encoding="utf-8"), re.M)
                if anchor not in {_slug(h) for h in headings}:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def test_the_readme_is_a_user_guide():
    text = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 350
    assert "scripts/demo" in text and "scripts/test" in text
