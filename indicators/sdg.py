"""The 17 Sustainable Development Goals and their 169 targets, with the United Nations' titles in
English and Arabic, so that national targets and funder goals name SDG targets that exist and the
pages can offer them by title in the reader's language.

The list is a data file (`data/sdg_targets.json`, generated from open-sdg's sdg-translations, MIT
licence; docs/pages.md says how); it is read once per process.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "sdg_targets.json"


@dataclass(frozen=True)
class SdgTarget:
    code: str
    title_en: str
    title_ar: str

    @property
    def goal_code(self) -> str:
        return self.code.split(".")[0]

    def title(self, language: str) -> str:
        return self.title_ar if language.startswith("ar") else self.title_en


@dataclass(frozen=True)
class SdgGoal:
    code: str
    title_en: str
    title_ar: str
    targets: tuple[SdgTarget, ...]

    def title(self, language: str) -> str:
        return self.title_ar if language.startswith("ar") else self.title_en


@cache
def sdg_goals() -> tuple[SdgGoal, ...]:
    """The goals in their official order (1–17), each with its targets (numbered, then lettered)."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    targets = [SdgTarget(row["code"], row["title_en"], row["title_ar"]) for row in data["targets"]]
    return tuple(
        SdgGoal(
            code=goal["code"],
            title_en=goal["title_en"],
            title_ar=goal["title_ar"],
            targets=tuple(target for target in targets if target.goal_code == goal["code"]),
        )
        for goal in data["goals"]
    )


@cache
def sdg_targets() -> dict[str, SdgTarget]:
    """Every SDG target by its code ("11.3", "16.a")."""
    return {target.code: target for goal in sdg_goals() for target in goal.targets}


def unknown_sdg_targets(codes: Iterable[str]) -> list[str]:
    """The codes that name no SDG target, in the order given."""
    known = sdg_targets()
    return [code for code in codes if code not in known]
