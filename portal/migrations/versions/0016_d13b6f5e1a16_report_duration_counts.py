"""report speed: histograms of the kept durations per month and year (exact medians from
sums), each duration's bucket and the indexes that read one bucket of one key, the hours
to each answer kept too (/stats); the backlog's change per month in the daily flows; the
ratings' counts of a period from one index

Revision ID: d13b6f5e1a16
Revises: c11a5e4f0d15
Create Date: 2026-11-30 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd13b6f5e1a16'
down_revision = 'c11a5e4f0d15'
branch_labels = None
depends_on = None

KEYS = ('department_id', 'staff_id', 'category_id', 'district_id')


def upgrade():
    op.create_table('report_duration_counts',
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('dim', 'months', 'start', 'kind', 'key', 'bucket',
                            name=op.f('pk_report_duration_counts')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('report_durations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bucket', sa.Integer(), server_default='0',
                                      nullable=False))
    _fill()
    with op.batch_alter_table('report_durations', schema=None) as batch_op:
        for column in KEYS:
            batch_op.create_index(f'ix_report_durations_{column}_bucket',
                                  ['kind', column, 'bucket', 'at', 'micros'], unique=False)
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_department_id_rated_at_counted',
                              ['department_id', 'rated_at', 'status', 'set_aside', 'level',
                               'solved'], unique=False)
    # The planners weigh the new indexes by their statistics (SQLite kept reading the
    # ratings through the narrower index, a row look-up each, without them).
    op.execute('ANALYZE report_durations')
    op.execute('ANALYZE ratings')


def _fill():
    """The durations already kept get their bucket (one UPDATE), the answered cases their
    answer duration (read once), and all are counted into the histograms, which the
    workload's medians and ``/stats`` read from now on; the backlog's monthly rows are
    summed from the daily flows (no read of the cases)."""
    bind = op.get_bind()
    from cases.reports import duration_counts, flows, timings  # needs the app (TIMEZONE)

    if not bind.execute(sa.text("SELECT count(*) FROM cases")).scalar():
        return
    if not bind.execute(sa.text("SELECT count(*) FROM daily_case_flows")).scalar():
        # Upgraded from before 0014 (which leaves its fill to this migration): every flow,
        # kept duration and histogram from the cases, as ``flask reports rebuild-totals``.
        # This calls today's code: a later migration that changes these tables must take
        # the fill over in the same way.
        flows.rebuild_flows(bind)
        return
    flows.fill_net_months(bind)
    duration_counts.fill_buckets(bind)
    timings.fill_answers(bind)
    duration_counts.rebuild(bind)


def downgrade():
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_department_id_rated_at_counted')
    op.execute("DELETE FROM daily_case_flows WHERE fact = 'net_month'")
    op.execute("DELETE FROM report_durations WHERE kind = 'answer'")
    with op.batch_alter_table('report_durations', schema=None) as batch_op:
        for column in KEYS:
            batch_op.drop_index(f'ix_report_durations_{column}_bucket')
        batch_op.drop_column('bucket')
    op.drop_table('report_duration_counts')
