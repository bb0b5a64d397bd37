"""Administration (issue #13): administrator accounts, teams and the supervisors who lead them,
each peer's team, shared experience and deactivation, each person's intake wishes. New tables only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:04:49.917062
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agency_administrator',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('credentials', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('agency_peer_standing',
    sa.Column('peer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('experience', sa.Text(), nullable=False),
    sa.Column('deactivated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('peer_id')
    )
    with op.batch_alter_table('agency_peer_standing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_peer_standing_team_id'), ['team_id'], unique=False)

    op.create_table('agency_person_intake',
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('wished_role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('wished_experience', sa.Text(), nullable=False),
    sa.Column('exclusions_checked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('exclusions_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('agency_team',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('agency_team_supervisor',
    sa.Column('supervisor_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('supervisor_id', 'team_id')
    )


def downgrade() -> None:
    op.drop_table('agency_team_supervisor')
    op.drop_table('agency_team')
    op.drop_table('agency_person_intake')
    with op.batch_alter_table('agency_peer_standing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_peer_standing_team_id'))

    op.drop_table('agency_peer_standing')
    op.drop_table('agency_administrator')
