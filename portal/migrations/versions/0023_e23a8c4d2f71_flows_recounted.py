"""reports: the daily flows, kept durations and their histograms recounted once. A case
given its department, assignee or deadlines after its insert in the same transaction (every
case routed as it is filed, and the demo city) was counted in no department's or
assignee's flows (``flows._before`` took the new value for the old one); the code counts
them now, and the rows kept before are rebuilt from the cases and their timelines

Revision ID: e23a8c4d2f71
Revises: d22f7b3a1e60
Create Date: 2026-12-01 05:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e23a8c4d2f71'
down_revision = 'd22f7b3a1e60'
branch_labels = None
depends_on = None


def upgrade():
    from cases.reports import flows  # the rows' shape is the app's (as 0016 does)

    flows.rebuild_flows(op.get_bind())
    op.execute('ANALYZE daily_case_flows')


def downgrade():
    pass  # the rows recounted are the right ones for the code before this revision too
