"""search: the PostgreSQL backend's documents (tsvector + GIN, access keys, JSONB filters)

On PostgreSQL the table holds a ``tsvector`` with a GIN index, the access keys as
``text[]`` (GIN) and the filters as ``jsonb`` (GIN, ``jsonb_path_ops``). On SQLite the
same table is created with portable types (text, JSON) and stays empty: only the
``postgresql`` search backend uses it. PostgreSQL only: rows stay in the heap up to 8 KB.

Revision ID: bb94f0724324
Revises: dc399003b4e7
Create Date: 2026-11-30 10:20:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'bb94f0724324'
down_revision = 'dc399003b4e7'
branch_labels = None
depends_on = None

TSV = sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql')
JSON_OBJECT = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
KEYS = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), 'postgresql')


def upgrade():
    op.create_table('search_documents',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('doc_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('tsv', TSV, nullable=False),
    sa.Column('texts', JSON_OBJECT, nullable=False),
    sa.Column('filters', JSON_OBJECT, nullable=False),
    sa.Column('dates', JSON_OBJECT, nullable=False),
    sa.Column('access', KEYS, nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'doc_id', name=op.f('pk_search_documents'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index('ix_search_documents_tsv', ['tsv'], unique=False, postgresql_using='gin')
        batch_op.create_index('ix_search_documents_access', ['access'], unique=False, postgresql_using='gin')
        batch_op.create_index('ix_search_documents_filters', ['filters'], unique=False, postgresql_using='gin', postgresql_ops={'filters': 'jsonb_path_ops'})

    if op.get_bind().dialect.name == 'postgresql':
        # Keep rows (and their tsvector) in the heap up to 8 KB instead of TOAST: ranking
        # reads every matched row's tsvector, and a TOAST fetch per row cost ~40% of a
        # query's time at 100,000 cases (docs/SEARCH.md, "PostgreSQL backend").
        op.execute('ALTER TABLE search_documents SET (toast_tuple_target = 8160)')
        op.execute('ALTER TABLE search_documents ALTER COLUMN tsv SET STORAGE MAIN')


def downgrade():
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_filters', postgresql_using='gin', postgresql_ops={'filters': 'jsonb_path_ops'})
        batch_op.drop_index('ix_search_documents_access', postgresql_using='gin')
        batch_op.drop_index('ix_search_documents_tsv', postgresql_using='gin')

    op.drop_table('search_documents')
