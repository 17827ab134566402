"""Reference data of the core: departments and districts, and the checks admin forms share.

The cases room keeps its own catalogue (``cases.catalogue``) and uses the shared checks.
Every function flushes and never commits; the request commits once. A refusal is a
``DomainError`` naming the form field it belongs to. Each change is recorded
(``portal.admin.audit``) in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.admin.audit import changes, record_action
from portal.db import db
from portal.errors import DomainError
from portal.models import Department, District

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DepartmentData:
    code: str
    name_zh: str
    name_en: str = ""
    is_active: bool = True


@dataclass(frozen=True)
class DistrictData:
    code: str
    name_zh: str
    name_en: str = ""
    position: int = 0


# --- shared checks ------------------------------------------------------------------------


def clean(value: str | None) -> str:
    return (value or "").strip()


def check_code_free(model: type, code: str, current_id: int | None) -> str:
    """The code, normalised; refused when another row of ``model`` has it already."""
    code = clean(code).lower()
    if not code:
        raise DomainError(_("Give a code."), field="code")
    stmt = select(model.id).where(func.lower(model.code) == code)
    if current_id is not None:
        stmt = stmt.where(model.id != current_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise DomainError(_("The code %(code)s is already taken.", code=code), field="code")
    return code


def chosen_department(
    department_id: int | None, current_id: int | None = None
) -> Department | None:
    """The department chosen on a form; an inactive one only if it is already the choice."""
    if department_id is None:
        return None
    department = db.session.get(Department, department_id)
    if department is None or (not department.is_active and department.id != current_id):
        raise DomainError(_("Choose an active department."), field="department_id")
    return department


# --- departments --------------------------------------------------------------------------


def create_department(data: DepartmentData) -> Department:
    department = Department(code=check_code_free(Department, data.code, None))
    _apply_department(department, data)
    db.session.add(department)
    db.session.flush()
    record_action("department.create", department, _department_fields(department))
    log.info("admin: department %s created", department.code)
    return department


def update_department(department: Department, data: DepartmentData) -> Department:
    before = _department_fields(department)
    department.code = check_code_free(Department, data.code, department.id)
    _apply_department(department, data)
    db.session.flush()
    diff = changes(before, _department_fields(department))
    if diff:
        record_action("department.update", department, diff)
    log.info("admin: department %s updated (active=%s)", department.code, department.is_active)
    return department


def _department_fields(department: Department) -> dict[str, object]:
    return {
        "code": department.code,
        "name_zh": department.name_zh,
        "name_en": department.name_en,
        "is_active": department.is_active,
    }


def _apply_department(department: Department, data: DepartmentData) -> None:
    department.name_zh = clean(data.name_zh)
    department.name_en = clean(data.name_en)
    department.is_active = data.is_active


# --- districts ----------------------------------------------------------------------------


def create_district(data: DistrictData) -> District:
    district = District(code=check_code_free(District, data.code, None))
    _apply_district(district, data)
    db.session.add(district)
    db.session.flush()
    record_action("district.create", district, _district_fields(district))
    log.info("admin: district %s created", district.code)
    return district


def update_district(district: District, data: DistrictData) -> District:
    before = _district_fields(district)
    district.code = check_code_free(District, data.code, district.id)
    _apply_district(district, data)
    db.session.flush()
    diff = changes(before, _district_fields(district))
    if diff:
        record_action("district.update", district, diff)
    log.info("admin: district %s updated", district.code)
    return district


def _district_fields(district: District) -> dict[str, object]:
    return {
        "code": district.code,
        "name_zh": district.name_zh,
        "name_en": district.name_en,
        "position": district.position,
    }


def _apply_district(district: District, data: DistrictData) -> None:
    district.name_zh = clean(data.name_zh)
    district.name_en = clean(data.name_en)
    district.position = data.position
