"""published: envelopes the broker acknowledged, kept for POST /v1/admin/republish

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 21:20:00
"""
from alembic import op

from helpdesk_events.tables import create_published, drop_published


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_published(op)


def downgrade() -> None:
    drop_published(op)
