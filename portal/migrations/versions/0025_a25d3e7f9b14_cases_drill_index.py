"""reports (issue 13), the cases behind a figure over a year: an index of each case's id
with its date, anonymous flag and department, so the tens of thousands of cases a
department's year of steps names are dated and filtered without reading their rows

Revision ID: a25d3e7f9b14
Revises: f24b6c1d8e93
Create Date: 2026-12-01 07:10:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a25d3e7f9b14'
down_revision = 'f24b6c1d8e93'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_cases_id_created_at', 'cases',
                    ['id', 'created_at', 'anonymous', 'department_id'], unique=False)
    op.execute('ANALYZE cases')


def downgrade():
    op.drop_index('ix_cases_id_created_at', table_name='cases')
