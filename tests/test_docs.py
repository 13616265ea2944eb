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
