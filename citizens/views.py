"""Staff pages of the clients room: the client list and the 360° view of one client."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from cases.satisfaction.queries import client_ratings_page
from citizens import bp, log, queries
from citizens.forms import REVEAL_FIELD_LABELS, ClassificationForm, ContactForm, RevealForm
from citizens.models import (
    Client,
    ClientKind,
    ContactChannel,
    Engagement,
    RevealLog,
    SizeTier,
    VulnerableGroup,
    engagement_for,
)
from citizens.queries import ANY_FLAG, SORT_LABELS, ClientFilter
from citizens.services import (
    REVEALABLE_FIELDS,
    add_contact,
    normalise_tag,
    parse_tags,
    reveal_field,
    update_classification,
)
from citizens.visibility import can_view_client
from portal.db import db, utcnow
from portal.exports import Table, export_response
from portal.models import DEPARTMENT_ROLES, Role, User
from portal.navigation import done
from portal.pagination import paginate
from portal.params import arg_int, arg_text, page_arg
from portal.permissions import INTAKE_ROLES, can_list_clients, is_intake_staff
from portal.privacy import mask_email, mask_id_number, mask_phone
from portal.refdata import district_options
from portal.transactions import form_errors

# Who records contacts and may see a full value (giving a reason): staff who work cases.
CONTACT_ROLES = INTAKE_ROLES | DEPARTMENT_ROLES
REVEAL_ROLES = INTAKE_ROLES | DEPARTMENT_ROLES
# Who edits the classification: the service centre.
CLASSIFY_ROLES = INTAKE_ROLES
# Who reads the access log (who saw which full value, when, why).
ACCESS_LOG_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


@bp.app_template_global()
def may_open_client(user: User, client: Client | None) -> bool:
    """Whether ``user`` may open ``client``'s 360° page (used by the case page)."""
    return client is not None and can_view_client(user, client)


bp.add_app_template_filter(mask_email, "mask_email")
bp.add_app_template_filter(engagement_for, "engagement")


@bp.app_template_global()
def known_requests(client: Client) -> int:
    """The client's requests as the signed-in user may know of them (no hidden tip-offs)."""
    return queries.known_case_counts(current_user, [client])[client.id]


@bp.app_template_global()
def hidden_case_numbers(numbers: list[str]) -> set[str]:
    """Of these case numbers, the anonymous tip-offs the signed-in user may not tie to anyone."""
    return queries.hidden_case_numbers(current_user, numbers)


def enum_arg(name: str, enum_cls):
    value = request.args.get(name)
    return enum_cls(value) if value in enum_cls._value2member_map_ else None


def require_staff() -> None:
    if not can_list_clients(current_user):
        abort(403)


def filter_from_args() -> ClientFilter:
    args = request.args
    flag = args.get("flag") or None
    sort = args.get("sort")
    return ClientFilter(
        kind=enum_arg("kind", ClientKind),
        size_tier=enum_arg("size_tier", SizeTier),
        industry=" ".join(arg_text("industry").split())[:100] or None,
        district_id=arg_int("district"),
        flag=flag if flag == ANY_FLAG or flag in VulnerableGroup._value2member_map_ else None,
        engagement=enum_arg("engagement", Engagement),
        tag=normalise_tag(arg_text("tag"))[:40] or None,
        q=arg_text("q").strip()[:200] or None,
        include_inactive=args.get("all") == "1",
        sort=sort if sort in SORT_LABELS else "name",
    )


@bp.route("/clients")
@login_required
def index():
    require_staff()
    filters = filter_from_args()
    pagination = queries.client_list_page(
        current_user, filters, page_arg(), current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "citizens/index.html",
        pagination=pagination,
        filters=filters,
        kinds=list(ClientKind),
        size_tiers=list(SizeTier),
        districts=district_options(),
        flags=list(VulnerableGroup),
        any_flag=ANY_FLAG,
        engagements=list(Engagement),
        sorts=SORT_LABELS,
        tags=queries.tags_in_use(),
        can_merge=is_intake_staff(current_user),
        requests=queries.known_case_counts(current_user, pagination.items),
    )


def load_client(client_id: int) -> Client:
    """The client, if the signed-in staff member may open it; 404 otherwise."""
    require_staff()
    client = queries.client_profile(client_id)
    if client is None or not can_view_client(current_user, client):
        abort(404)
    return client


def reveal_form_for(client: Client, form: RevealForm | None = None) -> RevealForm | None:
    if current_user.role not in REVEAL_ROLES or client.anonymised_at is not None:
        return None
    form = form or RevealForm(formdata=None)
    form.field.choices = [
        SelectChoice(name, REVEAL_FIELD_LABELS[name])
        for name in REVEALABLE_FIELDS
        if getattr(client, name)
    ]
    return form if form.field.choices else None


def district_choices() -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(d.id, d.name) for d in district_options()]


def classification_form_for(
    client: Client, form: ClassificationForm | None = None
) -> ClassificationForm | None:
    if current_user.role not in CLASSIFY_ROLES:
        return None
    if form is None:
        form = ClassificationForm(formdata=None)
        form.district.data = client.district_id
        form.address.data = client.address
        form.size_tier.data = client.size_tier.value if client.size_tier else ""
        form.industry.data = client.industry
        form.flags.data = [f.flag.value for f in client.flags]
        form.tags.data = ", ".join(t.tag for t in client.tags)
    form.district.choices = district_choices()
    return form


def contact_form_for(form: ContactForm | None = None) -> ContactForm | None:
    if current_user.role not in CONTACT_ROLES:
        return None
    return form or ContactForm(formdata=None)


def render_client(
    client: Client,
    *,
    reveal_form: RevealForm | None = None,
    contact_form: ContactForm | None = None,
    classification_form: ClassificationForm | None = None,
    revealed: tuple[str, str] | None = None,
    status: int = 200,
):
    user = current_user
    per_page = current_app.config["PAGE_SIZE"]
    cases = paginate(queries.client_cases_query(client.id, user), page_arg(), per_page)
    contacts = paginate(
        queries.client_contacts_query(client.id, user), page_arg("contacts_page"), per_page
    )
    ratings = client_ratings_page(client.id, user, page_arg("ratings_page"), per_page)
    access_log, access_total = (
        queries.reveal_log(client.id) if user.role in ACCESS_LOG_ROLES else (None, 0)
    )
    response = make_response(
        render_template(
            "citizens/show.html",
            client=client,
            cases=cases,
            counts=queries.case_counts([c.id for c in cases.items]),
            requests_filed=queries.known_case_counts(user, [client])[client.id],
            contacts=contacts,
            ratings=ratings,
            accounts=queries.linked_accounts(client.id),
            survivor=db.session.get(Client, client.merged_into_id)
            if client.merged_into_id
            else None,
            access_log=access_log,
            access_total=access_total,
            reveal_form=reveal_form_for(client, reveal_form),
            contact_form=contact_form_for(contact_form),
            classification_form=classification_form_for(client, classification_form),
            revealed=revealed,
            can_merge=is_intake_staff(user),
            field_labels=REVEAL_FIELD_LABELS,
            contacts_page=page_arg("contacts_page"),
            cases_page=page_arg(),
        ),
        status,
    )
    # The page shows personal data (in full, after a reveal): never keep it in a cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/clients/<int:client_id>")
@login_required
def show(client_id: int):
    return render_client(load_client(client_id))


@bp.route("/clients/<int:client_id>/reveals")
@login_required
def reveals(client_id: int):
    """The client's whole access log, newest first: who saw which full value, when, why."""
    client = load_client(client_id)
    if current_user.role not in ACCESS_LOG_ROLES:
        abort(403)
    stmt = (
        select(RevealLog)
        .where(RevealLog.client_id == client.id)
        .options(joinedload(RevealLog.user).joinedload(User.department))
        .order_by(RevealLog.created_at.desc(), RevealLog.id.desc())
    )
    pagination = paginate(stmt, page_arg(), current_app.config["PAGE_SIZE"])
    response = make_response(
        render_template("citizens/reveals.html", client=client, pagination=pagination,
                        field_labels=REVEAL_FIELD_LABELS)
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/clients/<int:client_id>/reveal", methods=["POST"])
@login_required
def reveal(client_id: int):
    """Show one full value, once, on this response; the reason goes to the access log."""
    client = load_client(client_id)
    form = reveal_form_for(client, RevealForm())
    if form is None:
        abort(403)
    if not form.validate_on_submit():
        return render_client(client, reveal_form=form, status=422)
    with form_errors(form) as outcome:
        value = reveal_field(client, current_user, form.field.data, form.reason.data)
    if outcome.refused:
        return render_client(load_client(client_id), reveal_form=form, status=422)
    field = form.field.data
    # Rendered directly, not redirected: the value never travels through the session.
    return render_client(client, revealed=(field, value))


@bp.route("/clients/<int:client_id>/contacts", methods=["POST"])
@login_required
def new_contact(client_id: int):
    client = load_client(client_id)
    form = contact_form_for(ContactForm())
    if form is None:
        abort(403)
    if not form.validate_on_submit():
        return render_client(client, contact_form=form, status=422)
    with form_errors(form) as outcome:
        add_contact(
            client,
            current_user,
            channel=ContactChannel(form.channel.data),
            summary=form.summary.data,
            case_number=form.case_number.data,
        )
    if outcome.refused:
        return render_client(load_client(client_id), contact_form=form, status=422)
    return done(_("The contact is recorded."), "citizens.show", client_id=client_id,
                _anchor="contacts-heading")


@bp.route("/clients/<int:client_id>/classification", methods=["POST"])
@login_required
def classify(client_id: int):
    client = load_client(client_id)
    if current_user.role not in CLASSIFY_ROLES:
        abort(403)
    form = ClassificationForm()
    form.district.choices = district_choices()
    if not form.validate_on_submit():
        return render_client(client, classification_form=form, status=422)
    with form_errors(form) as outcome:
        update_classification(
            client,
            current_user,
            district_id=form.district.data,
            address=form.address.data,
            size_tier=SizeTier(form.size_tier.data) if form.size_tier.data else None,
            industry=form.industry.data,
            flags=[VulnerableGroup(f) for f in form.flags.data],
            tags=parse_tags(form.tags.data),
        )
    if outcome.refused:
        return render_client(load_client(client_id), classification_form=form, status=422)
    return done(_("The classification is saved."), "citizens.show", client_id=client_id)


EXPORT_LIMIT = 10_000


@bp.route("/clients/export.csv")
@login_required
def export_clients():
    """The filtered client list as CSV (UTF-8 with BOM for spreadsheet programs), masked.

    Phones and ID numbers are masked here as in every list; revealing one stays an
    explicit, logged action on the client's page.
    """
    require_staff()
    filters = filter_from_args()
    stmt = queries.client_list_query(current_user, filters).limit(EXPORT_LIMIT)
    rows = db.session.scalars(stmt).all()
    known = queries.known_case_counts(current_user, rows)  # tip-offs the user may not know
    header = [
        _("Client number"),
        _("Kind"),
        _("Name"),
        _("Phone"),
        _("ID number or credit code"),
        _("District"),
        _("Requests"),
        _("Engagement"),
    ]
    cells = (
        [
            client.id,
            client.kind.label,
            client.name,
            mask_phone(client.phone),
            mask_id_number(client.id_number or client.credit_code),
            client.district.name if client.district else "",
            known[client.id],
            engagement_for(known[client.id]).label,
        ]
        for client in rows
    )
    log.info("user %s exported %d clients", current_user.id, len(rows))
    return export_response(Table(header, cells), f"clients-{utcnow():%Y%m%d}", "csv")
