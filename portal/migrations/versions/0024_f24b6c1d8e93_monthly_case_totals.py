"""reports (issue 13), figures over a year: the daily totals summed per local month
(``monthly_case_totals``) and the daily flows' additive facts likewise (filed, closed,
answered, on time, overdue: ``<fact>_m`` rows in ``daily_case_flows``), which a period's
whole months read instead of every day's rows; filled from the daily rows here, kept by
``cases.reports.totals`` and ``cases.reports.flows`` with them

Revision ID: f24b6c1d8e93
Revises: e23a8c4d2f71
Create Date: 2026-12-01 07:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f24b6c1d8e93'
down_revision = 'e23a8c4d2f71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_case_totals',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('received', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                            name=op.f('fk_monthly_case_totals_category_id_categories')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'],
                            name=op.f('fk_monthly_case_totals_district_id_districts')),
    sa.PrimaryKeyConstraint('month', 'category_id', 'district_id', 'channel', 'type',
                            name=op.f('pk_monthly_case_totals')),
    sqlite_with_rowid=False
    )
    # Each day's rows summed into its month (the days are local days already).
    month = ("date(day, 'start of month')" if op.get_bind().dialect.name == "sqlite"
             else "CAST(date_trunc('month', day) AS date)")
    op.execute(
        "INSERT INTO monthly_case_totals (month, category_id, district_id, channel, type, "
        f"received) SELECT {month}, category_id, district_id, channel, type, sum(received) "
        f"FROM daily_case_totals GROUP BY {month}, category_id, district_id, channel, type")
    op.execute('ANALYZE monthly_case_totals')
    from cases.reports import flows  # the rows' shape is the app's (as 0016 does)

    flows.fill_fact_months(op.get_bind())
    op.execute('ANALYZE daily_case_flows')


def downgrade():
    op.execute("DELETE FROM daily_case_flows WHERE fact IN "
               "('filed_m', 'closed_m', 'answered_m', 'on_time_m', 'overdue_m')")
    op.drop_table('monthly_case_totals')
