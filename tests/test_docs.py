"""docs/CASES.md draws the transition table: keep it true."""

from __future__ import annotations

from pathlib import Path

from cases.workflow import TRANSITIONS

ORDER = ["submitted", "accepted", "dispatched", "in_progress", "waiting", "replied", "closed"]


def test_architecture_lists_every_transition():
    text = (Path(__file__).parent.parent / "docs" / "CASES.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in text.splitlines()
            if line.startswith("| `")}
    assert set(rows) == set(TRANSITIONS)
    for action, t in TRANSITIONS.items():
        cells = [c.strip() for c in rows[action].split("|")[1:-1]]
        sources = ", ".join(s.value for s in sorted(t.sources, key=lambda s: ORDER.index(s)))
        roles = ", ".join(sorted(r.value for r in t.roles))
        assert cells[1:4] == [sources, t.target.value, f"{t.scope}: {roles}"], action
        assert (cells[4] == "yes") == t.needs_note, action
