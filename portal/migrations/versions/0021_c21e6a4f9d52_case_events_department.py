"""reports (issue 13), year-long pages: ``case_events (department of details, action,
created_at, case_id)`` for the lines that name a department, so the lists behind a
department's cases received or dispatched over a year read its dispatches, not every
dispatch of the year (the department is in the step's JSON ``details``; the expression is
written as ``cases.reports.models.department_of`` writes it on each database)

Revision ID: c21e6a4f9d52
Revises: b20d5f3e8c41
Create Date: 2026-12-01 02:45:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c21e6a4f9d52'
down_revision = 'b20d5f3e8c41'
branch_labels = None
depends_on = None

DEPARTMENT = {
    'postgresql': "((details ->> 'department')::integer)",
    'sqlite': "json_extract(details, '$.department')",
}


def upgrade():
    dialect = op.get_bind().dialect.name
    department = DEPARTMENT[dialect]
    # PostgreSQL reads an expression's index alone only if it holds the column too.
    include = ' INCLUDE (details)' if dialect == 'postgresql' else ''
    op.execute(
        f'CREATE INDEX ix_case_events_department ON case_events '
        f'({department}, action, created_at, case_id){include} '
        f'WHERE {department} IS NOT NULL')
    # PostgreSQL keeps statistics of an index's expression only after ANALYZE; SQLite's
    # planner reads the new index's shape from sqlite_stat1.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE case_events')
    else:
        op.execute('ANALYZE ix_case_events_department')


def downgrade():
    op.drop_index('ix_case_events_department', table_name='case_events')
