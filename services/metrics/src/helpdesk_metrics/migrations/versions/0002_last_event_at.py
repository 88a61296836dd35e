"""ticket_facts.last_event_at: the time of the latest event folded into the row

Past windows read a ticket's row as it is when nothing happened to the ticket after the
window's cutoff, and refold only the tickets touched since.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_facts_last_event_at'), ['last_event_at'], unique=False)
    op.execute(
        "UPDATE ticket_facts SET last_event_at = "
        "(SELECT max(e.at) FROM ticket_events e WHERE e.ticket_id = ticket_facts.ticket_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('ticket_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_facts_last_event_at'))
        batch_op.drop_column('last_event_at')
