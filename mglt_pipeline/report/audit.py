"""What makes a trial report fit to send: self-contained, and no outcome of the registry missing."""
from __future__ import annotations

import re
from collections.abc import Iterable

EXTERNAL_RESOURCE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""",
                               re.IGNORECASE)


def report_problems(html: str, outcome_ids: Iterable[str]) -> list[str]:
    """Sentences naming what is wrong with the report's HTML (empty when nothing is)."""
    problems = []
    if EXTERNAL_RESOURCE.search(html):
        problems.append("the report loads a resource from the network; it must be self-contained")
    missing = [o for o in outcome_ids if f'id="outcome-{o}"' not in html]
    if missing:
        problems.append(f"no section for outcome(s) {', '.join(missing)}")
    return problems
