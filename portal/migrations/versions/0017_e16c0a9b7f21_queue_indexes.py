"""queue indexes: partial indexes of the open cases in each staff queue's order (my
cases, the department's, nobody's yet, answered), so a queue page at a million cases is
the first rows of one index; the ratings list's order (newest given or defaulted first)

Revision ID: e16c0a9b7f21
Revises: d13b6f5e1a16
Create Date: 2026-12-01 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e16c0a9b7f21'
down_revision = 'd13b6f5e1a16'
branch_labels = None
depends_on = None

OPEN_STATES = ("status IN ('submitted', 'accepted', 'dispatched', 'in_progress', "
               "'waiting', 'replied')")
WITH_DEPARTMENT = "status IN ('dispatched', 'in_progress', 'waiting')"
INDEXES = (
    ('ix_cases_open_assignee_id_due_at', ['assignee_id', 'due_at'], OPEN_STATES),
    ('ix_cases_open_department_id_due_at', ['department_id', 'due_at'], WITH_DEPARTMENT),
    ('ix_cases_unassigned_department_id_created_at', ['department_id', 'created_at'],
     f"{WITH_DEPARTMENT} AND assignee_id IS NULL"),
    ('ix_cases_answered_replied_at', ['replied_at'], "status = 'replied'"),
)


SHOWN = "status IN ('rated', 'defaulted') AND level IS NOT NULL"


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name, columns, where in INDEXES:
            batch_op.create_index(name, columns, unique=False,
                                  sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    op.create_index('ix_ratings_shown_rated_on', 'ratings',
                    [sa.text('coalesce(rated_at, default_at)'), 'id'], unique=False,
                    sqlite_where=sa.text(SHOWN), postgresql_where=sa.text(SHOWN))


def downgrade():
    op.drop_index('ix_ratings_shown_rated_on', table_name='ratings')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name, _columns, _where in INDEXES:
            batch_op.drop_index(name)
