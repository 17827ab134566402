"""report speed, fifth pass: the public statistics page's stored figures
(``report_public_stats``: /stats serves them, the sweep computes them); ``ratings
(rated_at)`` holds what 三率 counts on PostgreSQL (INCLUDE department, status, set aside,
level, solved), so a period's ratings are counted from the index alone there too;
``bad_reviews (created_at, outcome, closed_at)``: the monthly report's 差评 of a month by
outcome read from the index alone (the city's count scanned the table); the daily flows'
ends per month of the end and of the filing (``ended_month``, filled from ``ended_from``),
which a year's "still open" sums instead of every day's; ``case_events (action, actor_id,
created_at, case_id)``: the lists behind a year's sign-fors, returns and extensions of a
department or staff member read their members' steps, not every step of the kind

Revision ID: a19c4e2d7b30
Revises: f27d1b0c8e32
Create Date: 2026-12-01 02:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a19c4e2d7b30'
down_revision = 'f27d1b0c8e32'
branch_labels = None
depends_on = None

COUNTED = ['department_id', 'status', 'set_aside', 'level', 'solved']


def upgrade():
    op.create_table('report_public_stats',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('etag', sa.String(length=32), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_public_stats'))
    )
    # SQLite ignores INCLUDE (it keeps reading ``ratings (department_id, rated_at, status,
    # set_aside, level, solved)``, migration 0016): there this is ``ratings (rated_at)``.
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_rated_at_counted', ['rated_at'], unique=False,
                              postgresql_include=COUNTED)
        batch_op.drop_index('ix_ratings_rated_at')
    with op.batch_alter_table('bad_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_bad_reviews_created_at_counted',
                              ['created_at', 'outcome', 'closed_at'], unique=False)
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_action_actor_id_created_at',
                              ['action', 'actor_id', 'created_at', 'case_id'],
                              unique=False)
    from cases.reports import flows  # the rows' shape is the app's (as 0016 does)

    flows.fill_ended_months(op.get_bind())
    op.execute('ANALYZE ratings')
    op.execute('ANALYZE bad_reviews')
    op.execute('ANALYZE daily_case_flows')
    op.execute('ANALYZE case_events')


def downgrade():
    op.execute("DELETE FROM daily_case_flows WHERE fact = 'ended_month'")
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_action_actor_id_created_at')
    with op.batch_alter_table('bad_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_bad_reviews_created_at_counted')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_rated_at', ['rated_at'], unique=False)
        batch_op.drop_index('ix_ratings_rated_at_counted')
    op.drop_table('report_public_stats')
