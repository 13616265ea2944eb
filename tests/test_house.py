"""The house shows the flow: stage packages in the order the data goes through them, each
importing only from stages before it, and a run layer that wires their faces."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "geo_risk"
#: Shared ground first, then the stages in the order the data flows, then what wires them.
ORDER = ["_errors", "columns", "cores", "io", "geography", "inputs", "model", "governance",
         "areas", "siting", "publish", "config", "run", "synth", "cli", "__main__"]
FACES = {"io", "geography", "inputs", "model", "governance", "areas", "siting", "publish"}


def _room(path: Path) -> str:
    part = path.relative_to(PACKAGE).parts[0]
    return part.removesuffix(".py")


def _imports(path: Path) -> list[str]:
    """The geo_risk modules ``path`` imports (at any depth of the file)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "geo_risk":
                found += [f"geo_risk.{a.name}" for a in node.names]
            elif node.module.startswith("geo_risk."):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("geo_risk.")]
    return found


def test_few_modules_stand_outside_the_stage_packages():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(loose) <= 8, loose
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
            } == FACES | {"run", "synth"}


def test_no_stage_imports_a_later_one():
    rank = {room: i for i, room in enumerate(ORDER)}
    back = []
    for path in sorted(PACKAGE.rglob("*.py")):
        room = _room(path)
        if room == "__init__":
            continue
        for module in _imports(path):
            target = module.split(".")[1]
            if target in rank and target != room and rank[target] > rank[room]:
                back.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not back, back


def test_the_run_wires_the_stages_through_their_faces():
    """pipeline.py takes each stage from its package's face; within run/ it uses its own
    files; besides, only the shared ground (columns, errors, version) and the config."""
    allowed = ({f"geo_risk.{f}" for f in FACES} | {"geo_risk.columns", "geo_risk._errors",
               "geo_risk.__version__", "geo_risk.config"})
    for module in _imports(PACKAGE / "run/pipeline.py"):
        assert module in allowed or module.startswith("geo_risk.run."), module
