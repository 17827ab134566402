"""Running an import: read, check every row, then write in chunks (each its own commit,
with the import's progress), so a page polling the progress sees it move.

Nothing half-imported remains: every row is checked before anything is written, and any
bad row fails the whole file (all bad rows are listed). Should writing fail half-way (a
database error), the rows this run committed are deleted again (``writing.undo``). Should
the process die half-way, the import stays "running"; ``pick_up_pending`` (``flask cases
sweep`` and ``flask cases import-pending``) runs it again, and the rows already written
are recognised by their import key and counted, not made twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from cases.imports.categories import import_tree, make_categories
from cases.imports.models import CaseImport
from cases.imports.reading import ImportFileError, file_kind, read_table
from cases.imports.rows import REQUIRED, Reference, Row, check_rows, with_locale
from cases.imports.writing import Written, undo, write_chunk
from cases.models import Case
from citizens.models import Client, ClientKind
from portal.aftercommit import after_commit, after_rollback
from portal.db import db, utcnow
from portal.i18n import pinyin_key
from portal.models import District

log = logging.getLogger(__name__)

CHUNK = 2000  # rows written per statement group and commit
KEY_CHUNK = 5000  # import keys looked up per query
# The one client that imported rows without a person belong to; no personal data.
PLACEHOLDER_CLIENT = "历史导入（无诉求人信息）"
PLACEHOLDER_DISTRICT = ("imported-unknown", "未注明区域", "District not given")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

_threads: dict[int, threading.Thread] = {}


def claim(import_id: int, stalled_before=None) -> bool:
    """Take a queued import (or one whose runner died before ``stalled_before``): one
    conditional UPDATE, so two runners never run the same import. Commits."""
    free = CaseImport.status == QUEUED
    if stalled_before is not None:
        free = or_(free, and_(CaseImport.status == RUNNING,
                              CaseImport.started_at < stalled_before))
    taken = db.session.execute(
        update(CaseImport).where(CaseImport.id == import_id, free)
        .values(status=RUNNING, started_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return taken == 1


def _finish(imp: CaseImport, status: str, errors: list[dict] | None = None,
            count: int = 0) -> None:
    imp.status, imp.finished_at = status, utcnow()
    imp.errors, imp.error_count = (errors or None), count
    if imp.stored_path:  # the uploaded file is no longer needed (it may hold personal data)
        Path(imp.stored_path).unlink(missing_ok=True)
        imp.stored_path = None
    db.session.commit()


def run_import(imp: CaseImport, data: bytes | None = None) -> CaseImport:
    """Run a claimed import to its end (done or failed); commits as it goes."""
    try:
        if data is None:
            data = Path(imp.stored_path or "").read_bytes()
    except OSError:
        _finish(imp, FAILED, [{"line": 0, "reason": _("The uploaded file is gone.")}], 1)
        return imp
    required = ("category",) if imp.kind == "categories" else REQUIRED
    try:
        table = read_table(imp.file_name, data, required)
    except ImportFileError as exc:
        _finish(imp, FAILED, [{"line": 0, "reason": exc.message}], 1)
        return imp
    imp.total_rows = len(table.rows)
    db.session.commit()
    if imp.kind == "categories":
        result = import_tree(table)
        if result.error_count:
            db.session.rollback()
            _finish(imp, FAILED, result.errors, result.error_count)
            return imp
        imp.created_rows, imp.skipped_rows = result.created, result.skipped
        imp.processed_rows = imp.total_rows
        _finish(imp, DONE)
        return imp
    return _run_cases(imp, table)


def existing_keys(keys: list[str]) -> dict[str, int | None]:
    """Which keys already have a case, and of which import (a query per 5,000 keys)."""
    found: dict[str, int | None] = {}
    for start in range(0, len(keys), KEY_CHUNK):
        part = keys[start:start + KEY_CHUNK]
        found.update(db.session.execute(
            select(Case.import_key, Case.import_id).where(Case.import_key.in_(part))).all())
    return found


def _run_cases(imp: CaseImport, table) -> CaseImport:
    ref = Reference.load()
    rows, errors, count = check_rows(table.rows, ref, imp.create_categories)
    if count:
        _finish(imp, FAILED, errors, count)
        return imp
    existing = existing_keys(list({r.key for r in rows}))
    todo: list[Row] = []
    seen: set[str] = set()
    skipped = again = 0
    for row in rows:
        owner = existing.get(row.key, 0) if row.key not in seen else -1
        seen.add(row.key)
        if owner == 0:
            todo.append(row)
        elif owner == imp.id:  # written by an earlier run of this import that died
            again += 1
        else:
            skipped += 1
    if ref.created:
        make_categories(ref, ref.created, {r.path: r.department_id for r in rows})
    placeholders = _placeholders(todo)
    imp.skipped_rows, imp.created_rows = skipped, again
    imp.processed_rows = skipped + again
    db.session.commit()
    written = Written()
    try:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            write_chunk(chunk, imp.id, ref, placeholders, written)
            imp.created_rows += len(chunk)
            imp.processed_rows += len(chunk)
            db.session.commit()
    except Exception:
        log.exception("import %s failed while writing; taking its rows back out", imp.id)
        db.session.rollback()
        undo(written)
        _finish(imp, FAILED, [{"line": 0, "reason": _(
            "The database refused the rows; nothing was imported. Try again later.")}], 1)
        return imp
    _finish(imp, DONE)
    log.info("import %s: %s created, %s skipped", imp.id, imp.created_rows, imp.skipped_rows)
    return imp


def _placeholders(rows: list[Row]) -> tuple[int, int]:
    """The shared client of rows without a person, and the district of rows without one
    (each made once, when first needed)."""
    client_id = district_id = 0
    if any(r.client is None for r in rows):
        client_id = db.session.scalar(select(Client.id).where(
            Client.name == PLACEHOLDER_CLIENT, Client.phone.is_(None),
            Client.id_number.is_(None)).order_by(Client.id).limit(1)) or 0
        if not client_id:
            client = Client(kind=ClientKind.CITIZEN, name=PLACEHOLDER_CLIENT,
                            sort_key=pinyin_key(PLACEHOLDER_CLIENT), notify_by_email=False)
            db.session.add(client)
            db.session.flush()
            client_id = client.id
    if any(r.district_id is None for r in rows):
        code, name_zh, name_en = PLACEHOLDER_DISTRICT
        district_id = db.session.scalar(select(District.id).where(District.code == code)) or 0
        if not district_id:
            district = District(code=code, name_zh=name_zh, name_en=name_en,
                                sort_key=pinyin_key(name_zh), position=9999)
            db.session.add(district)
            db.session.flush()
            district_id = district.id
    return client_id, district_id


# --- running after the upload's commit, and picking up what a dead process left ---------


def queue_upload(name: str, data: bytes, kind: str, create_categories: bool,
                 user_id: int | None, locale: str | None) -> CaseImport:
    """Store an uploaded file under the instance folder and queue its import, to run once
    the transaction commits (the file goes again if it does not). Flushes."""
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.{file_kind(name, data)}"
    path.write_bytes(data)
    after_rollback(lambda: path.unlink(missing_ok=True))
    imp = CaseImport(kind=kind, file_name=name, status=QUEUED, stored_path=str(path),
                     create_categories=create_categories and kind == "cases",
                     created_by_id=user_id)
    db.session.add(imp)
    db.session.flush()
    start_after_commit(imp.id, locale)
    return imp


def start_after_commit(import_id: int, locale: str | None) -> None:
    """Once the upload commits, run the import (``IMPORT_RUN``: "thread", "inline", "off")."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    mode = app.config.get("IMPORT_RUN", "thread")
    if mode == "off":
        return
    if mode == "inline":
        after_commit(lambda: _run_in_context(app, import_id, locale))
        return

    def start() -> None:
        thread = threading.Thread(target=_run_in_context, args=(app, import_id, locale),
                                  name=f"import-{import_id}", daemon=True)
        _threads[import_id] = thread
        thread.start()

    after_commit(start)


def _run_in_context(app: Flask, import_id: int, locale: str | None) -> None:
    with app.app_context(), with_locale(locale):
        try:
            if claim(import_id):
                imp = db.session.get(CaseImport, import_id)
                if imp is not None:
                    run_import(imp)
        except Exception:
            log.exception("import %s stopped", import_id)
        finally:
            db.session.remove()


def wait_for(import_id: int, timeout: float = 60.0) -> None:
    """Wait for an import's thread (tests, the bench)."""
    thread = _threads.pop(import_id, None)
    if thread is not None:
        thread.join(timeout)


def pick_up_pending(queued_for: timedelta = timedelta(minutes=2),
                    stalled_for: timedelta = timedelta(hours=1)) -> list[int]:
    """Run imports left queued for ``queued_for`` or running for ``stalled_for`` (their
    process died); returns their ids. Commits."""
    now = utcnow()
    stalled_before = now - stalled_for
    ids = db.session.scalars(select(CaseImport.id).where(or_(
        and_(CaseImport.status == QUEUED, CaseImport.created_at <= now - queued_for),
        and_(CaseImport.status == RUNNING, CaseImport.started_at < stalled_before),
    )).order_by(CaseImport.id)).all()
    done = []
    for import_id in ids:
        if claim(import_id, stalled_before):
            try:
                run_import(db.session.get(CaseImport, import_id))
            except Exception:  # never stop the sweep: the import waits for the next pass
                log.exception("import %s stopped", import_id)
                db.session.rollback()
            done.append(import_id)
    return done


