"""What a finished run keeps to publish itself again: ``work/run_state.json``.

``geo-risk hotspots``, ``site`` and ``compare`` change a finished run and publish it
again; they need the geography it was read with, its map context, its disclosure rules,
its ``run_info`` and the siting it was asked for. :class:`RunState` holds them, typed;
the JSON is only how a later process reads them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo_risk.areas import Disclosure
from geo_risk.geography import BoundaryFiles, Vintage
from geo_risk.publish import MapContext
from geo_risk.run.folder import RunFolder
from geo_risk.siting import SitingSettings

__all__ = ["RunState"]

_SITING_FILES = {"candidates", "existing", "matrix"}


@dataclass(frozen=True)
class RunState:
    """A run's settings as its later stages need them."""

    files: BoundaryFiles
    ctx: MapContext
    run_info: dict[str, str]
    synthetic: bool
    disclosure: Disclosure
    vintage: Vintage
    random_state: int
    transparency: dict[str, str] = field(default_factory=dict)
    #: The siting asked for, paths inside the run relative to it (JSON as written).
    siting: dict | None = None

    def siting_settings(self, folder: RunFolder) -> SitingSettings | None:
        """The siting the run was asked for, its files where they are now."""
        if not self.siting:
            return None
        recorded: dict[str, Any] = {k: folder.resolve(v) if k in _SITING_FILES and v else v
                                    for k, v in self.siting.items()}
        return SitingSettings(**recorded)

    def with_siting(self, settings: SitingSettings | None, folder: RunFolder) -> RunState:
        """This state with ``settings`` as its siting (paths inside the run relative)."""
        recorded = None if settings is None else {
            k: folder.relative(v) if isinstance(v, Path) else v
            for k, v in dataclasses.asdict(settings).items()}
        return dataclasses.replace(self, siting=recorded)

    def write(self, folder: RunFolder) -> None:
        """Into ``folder.state``."""
        record = {"files": self.files.state(), "ctx": dataclasses.asdict(self.ctx),
                  "run_info": self.run_info, "synthetic": self.synthetic,
                  "disclosure": dataclasses.asdict(self.disclosure),
                  "vintage": dataclasses.asdict(self.vintage),
                  "transparency": self.transparency, "random_state": self.random_state,
                  "siting": self.siting}
        folder.state.write_text(json.dumps(record, indent=2) + "\n")

    @classmethod
    def read(cls, folder: RunFolder) -> RunState:
        """From ``folder.state``, as :meth:`write` or an earlier geo-risk left it."""
        raw = json.loads(folder.state.read_text(encoding="utf-8"))
        return cls(files=BoundaryFiles.from_state(raw["files"]), ctx=MapContext(**raw["ctx"]),
                   run_info=raw["run_info"], synthetic=raw["synthetic"],
                   disclosure=Disclosure(**raw["disclosure"]),
                   vintage=Vintage(**raw["vintage"]),
                   random_state=raw.get("random_state", 0),
                   transparency=raw.get("transparency", {}), siting=raw.get("siting"))

    @staticmethod
    def census_of(folder: RunFolder) -> int:
        """The census year of a run's output areas (2011 for runs that did not say)."""
        raw = json.loads(folder.state.read_text(encoding="utf-8"))
        return raw.get("vintage", {}).get("census", 2011)
