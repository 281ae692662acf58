"""Conversations: the conversation a request belongs to, kept in its own column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

A follow-up ("same dates for Bob") is parsed in the conversation it was submitted in; a request the
NLP service could not classify at once is classified later by the gateway's reconciler, which must
send the same id. Until now the id lived in a ``request.conversation`` audit entry; a column is
read with the request itself (no audit scan), is never PII-masked (an id that looked like a phone
number was stored masked in the audit detail), and is set in the submit's own transaction.

Nullable: most requests belong to no conversation. Indexed: a conversation's requests are listed
by it (support, retention). Existing audit entries are copied over, so a request submitted before
this revision and still waiting to be classified continues its conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("conversation_id", sa.String(128), nullable=True))
    op.create_index("ix_requests_conversation_id", "requests", ["conversation_id"])
    # The first recorded entry wins, as the gateway read it; only ids of the documented length.
    op.execute(
        """
        UPDATE requests AS r
           SET conversation_id = a.detail ->> 'conversation_id'
          FROM (
                SELECT DISTINCT ON (request_id) request_id, detail
                  FROM audit_log
                 WHERE action = 'request.conversation'
                   AND jsonb_typeof(detail -> 'conversation_id') = 'string'
                   AND length(detail ->> 'conversation_id') <= 128
                 ORDER BY request_id, id
               ) AS a
         WHERE a.request_id = r.id
        """
    )


def downgrade() -> None:
    op.drop_index("ix_requests_conversation_id", table_name="requests")
    op.drop_column("requests", "conversation_id")
