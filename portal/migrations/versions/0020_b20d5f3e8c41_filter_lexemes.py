"""search speed: filter values as lexemes of the index

Revision ID: b20d5f3e8c41
Revises: a19c4e2d7b30
Create Date: 2026-12-01 02:00:00.000000

PostgreSQL only (on SQLite the table stays empty and nothing changes): each row of
``search_documents`` gets its filter values as lexemes of ``tsv`` without position
(``'%status="in_progress"'``, ``'%department_id=3'``): a search with words checks its
filters in the GIN index with them instead of on every row its words match
(``search.engine.pg_filters``; rows written from now on carry them already). Updated in
batches of 50,000 ids, then ANALYZE; searches keep working meanwhile (the old code never
asks for these lexemes), index writes of rows it updated wait for its commit. Like 0015 it
rewrites every row: 505 s for 1,000,000 rows on a 2-core machine at load 3-4, and the
table's file doubles until a ``VACUUM FULL search_documents`` (3 minutes there) or a
``flask search reindex``.
"""

from alembic import op
from sqlalchemy import text

# revision identifiers, used by Alembic.
revision = 'b20d5f3e8c41'
down_revision = 'a19c4e2d7b30'
branch_labels = None
depends_on = None

# The same lexemes ``search.engine.pg_filters.filter_lexemes`` writes (kept here as they
# were at this revision: a migration does not follow later code).
FILTERS_SQL = (
    "coalesce(array_to_tsvector(ARRAY(SELECT DISTINCT lexeme FROM ("
    "SELECT '%' || f.key || '=' || CASE jsonb_typeof(v.value) "
    "WHEN 'string' THEN v.value::text WHEN 'boolean' THEN v.value::text "
    "WHEN 'number' THEN CASE WHEN v.value::text::numeric = trunc(v.value::text::numeric) "
    "THEN trunc(v.value::text::numeric)::text END END AS lexeme "
    "FROM jsonb_each(filters) AS f, jsonb_array_elements(CASE jsonb_typeof(f.value) "
    "WHEN 'array' THEN f.value ELSE jsonb_build_array(f.value) END) AS v) AS l "
    "WHERE lexeme IS NOT NULL AND octet_length(lexeme) <= 2000)), ''::tsvector)"
)
BATCH = 50_000


def _batches(bind):
    low, high = bind.execute(text('SELECT min(doc_id), max(doc_id) FROM search_documents')).one()
    if low is None:
        return
    for start in range(low, high + 1, BATCH):
        yield {'start': start, 'end': start + BATCH}


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    batches = list(_batches(bind))
    for bounds in batches:
        bind.execute(text(
            f'UPDATE search_documents SET tsv = tsv || {FILTERS_SQL} '  # noqa: S608
            'WHERE doc_id >= :start AND doc_id < :end'), bounds)
    if batches:
        op.execute('ANALYZE search_documents')


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    for bounds in _batches(bind):
        bind.execute(text(
            "UPDATE search_documents SET tsv = ts_delete(tsv, ARRAY(SELECT lexeme "
            "FROM unnest(tsv) WHERE lexeme LIKE '\\%%' ESCAPE '\\')) "
            'WHERE doc_id >= :start AND doc_id < :end'), bounds)
