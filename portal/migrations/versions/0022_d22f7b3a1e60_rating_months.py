"""reports (issue 13), the dashboard over a year: monthly counts of the ratings 三率 may
count (``report_rating_months``: per local month of the rating, department, status, level
and solved), which whole months read instead of every rating of the period; filled from
``ratings`` here, kept by ``cases.reports.rating_months``

Revision ID: d22f7b3a1e60
Revises: c21e6a4f9d52
Create Date: 2026-12-01 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd22f7b3a1e60'
down_revision = 'c21e6a4f9d52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_rating_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('solved', sa.String(length=12), nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('month', 'department_id', 'status', 'level', 'solved',
                            name=op.f('pk_report_rating_months')),
    sqlite_with_rowid=False
    )
    from cases.reports import rating_months  # the rows' shape is the app's (as 0016 does)

    rating_months.rebuild_rating_months(op.get_bind())
    op.execute('ANALYZE report_rating_months')


def downgrade():
    op.drop_table('report_rating_months')
