"""history_marks: which hours of history transactions changed (settled.py's cache check)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'history_marks',
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('writer', sa.String(length=36), nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('hour', 'writer'),
    )


def downgrade() -> None:
    op.drop_table('history_marks')
