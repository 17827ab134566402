"""report speed: daily flows of the cases and their timelines (what the workload and 三率
sum), the durations the medians rank, the timeline by case and step, cases by reply
deadline

Revision ID: 5e7a2c91d0b4
Revises: 9bc1a87fae9d
Create Date: 2026-11-30 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e7a2c91d0b4'
down_revision = '9bc1a87fae9d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('daily_case_flows',
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('fact', sa.String(length=12), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sa.Integer(), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('dim', 'fact', 'day', 'key', 'since', name=op.f('pk_daily_case_flows')),
    sqlite_with_rowid=False
    )
    op.create_table('report_durations',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('earlier', sa.DateTime(), nullable=False),
    sa.Column('micros', sa.BigInteger(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'at', 'ref_id', name=op.f('pk_report_durations')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('report_durations', schema=None) as batch_op:
        batch_op.create_index('ix_report_durations_case_id', ['case_id'], unique=False)
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_case_id_action', ['case_id', 'action'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_reply_due_at', ['reply_due_at'], unique=False)
        batch_op.create_index('ix_cases_created_at_updated_at', ['created_at', 'updated_at'], unique=False)
        batch_op.drop_index('ix_cases_created_at')
    # The flows of the cases already there are filled by migration 0016 (``_fill``), which
    # knows the tables today's code writes: a fill here with today's code would write
    # columns and tables this revision does not have yet.


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_created_at', ['created_at'], unique=False)
        batch_op.drop_index('ix_cases_created_at_updated_at')
        batch_op.drop_index('ix_cases_reply_due_at')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_case_id_action')
    with op.batch_alter_table('report_durations', schema=None) as batch_op:
        batch_op.drop_index('ix_report_durations_case_id')
    op.drop_table('report_durations')
    op.drop_table('daily_case_flows')
