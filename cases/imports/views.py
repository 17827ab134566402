"""Admin pages of history imports: the list with the upload form, each import's page with
its progress (``static/js/import-progress.js`` polls the JSON), admins only.

The upload is checked at once (type, encoding, required columns: a 4xx with the reason),
stored under the instance folder and queued; the rows are checked and written after the
response (``runner.start_after_commit``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cases.imports.forms import UploadForm
from cases.imports.models import CaseImport
from cases.imports.reading import ImportFileError, read_table
from cases.imports.rows import REQUIRED
from cases.imports.runner import queue_upload
from portal.db import get_or_404
from portal.models import Role
from portal.pagination import paginate
from portal.params import page_arg
from portal.permissions import role_required

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
STATUS_LABELS = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"),
                 "failed": _l("Failed")}
KIND_LABELS = {"cases": _l("Cases"), "categories": _l("Category tree")}


@bp.context_processor
def _labels() -> dict:
    return {"import_status_labels": STATUS_LABELS, "import_kind_labels": KIND_LABELS}


def _listing(form: UploadForm, status: int = 200):
    stmt = (select(CaseImport).options(joinedload(CaseImport.created_by))
            .order_by(CaseImport.created_at.desc(), CaseImport.id.desc()))
    page = paginate(stmt, page_arg(), 20)
    return render_template("imports/index.html", page=page, form=form), status


@bp.route("", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def index():
    """The imports, newest first, and the upload form."""
    form = UploadForm()
    if not form.is_submitted():
        return _listing(form)
    if not form.validate():
        return _listing(form, 422)
    upload = form.file.data
    limit = current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
    data = upload.read(limit + 1)
    if len(data) > limit:
        form.file.errors.append(_("The file is larger than %(size)d MB.",
                                  size=limit // (1024 * 1024)))
        return _listing(form, 413)
    kind = form.kind.data
    required = ("category",) if kind == "categories" else REQUIRED
    name = Path(upload.filename or "").name[:255] or "upload"
    try:
        read_table(name, data, required)
    except ImportFileError as exc:
        form.file.errors.append(exc.message)
        return _listing(form, 415 if exc.field == "type" else 422)
    imp = queue_upload(name, data, kind, bool(form.create_categories.data), current_user.id,
                       str(get_locale() or "") or None)
    return redirect(url_for("imports.detail", import_id=imp.id))


@bp.route("/<int:import_id>")
@role_required(Role.ADMIN)
def detail(import_id: int):
    """One import: its progress bar and counts, and the bad rows when it failed."""
    imp = get_or_404(CaseImport, import_id)
    return render_template("imports/detail.html", imp=imp)


@bp.route("/<int:import_id>/progress")
@role_required(Role.ADMIN)
def progress(import_id: int):
    """The import's state as JSON (polled by the import's page)."""
    imp = get_or_404(CaseImport, import_id)
    return jsonify({
        "id": imp.id, "status": imp.status, "total_rows": imp.total_rows,
        "processed_rows": imp.processed_rows, "created_rows": imp.created_rows,
        "skipped_rows": imp.skipped_rows, "error_count": imp.error_count,
        "finished": imp.status in ("done", "failed"),
    })
