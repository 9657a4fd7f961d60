"""A real job queue: background jobs, the outbox's pending documents, imports' files.

- `jobs`: one row per piece of work run outside a request (core.jobs), written in the
  transaction that asks for it and handed to the queue (Redis, or the process's own
  threads) after it commits; a worker claims it with a lease.
- `outbox` gains `user_id` (the person a mail is written to) and `document_kind` /
  `document_id`: the document a delivery job draws and attaches before sending.
- `import_jobs` gains `queue_job_id` (the job that runs it), and `import_files` keeps an
  import's uploaded file in chunks until it is over, for a worker in another process.

SQLite cannot add a named reference to a table, and a batch rebuild of `outbox` would run
its attachments' ON DELETE CASCADE: there, as in 0016, the column is added plainly and its
reference written into the table's definition.

Revision ID: 0018
Revises: 0017
Create Date: 2027-01-24 10:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# (table, column, referred table): each ON DELETE SET NULL, and indexed.
REFERENCES = (
    ("outbox", "user_id", "users"),
    ("import_jobs", "queue_job_id", "jobs"),
)


def _constraint(table: str, column: str, referred: str) -> str:
    return (
        f"CONSTRAINT fk_{table}_{column}_{referred} FOREIGN KEY({column}) "
        f"REFERENCES {referred} (id) ON DELETE SET NULL"
    )


def _rewrite_sqlite_table(table: str, change) -> None:
    """Give a SQLite table the definition `change(sql)` makes of its own, in place (see
    0016: writable_schema, then a new schema version)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (change(sql), table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _add_reference(table: str, column: str, referred: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER")

        def with_reference(sql: str) -> str:
            body = sql.rstrip()
            if not body.endswith(")"):
                raise RuntimeError(f"unexpected definition of {table}: {sql}")
            return f"{body[:-1].rstrip()}, \n\t{_constraint(table, column, referred)}\n)"

        _rewrite_sqlite_table(table, with_reference)
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(
            f"fk_{table}_{column}_{referred}",
            table,
            referred,
            [column],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(f"ix_{table}_{column}", table, [column])


def _drop_reference(table: str, column: str, referred: str) -> None:
    op.drop_index(f"ix_{table}_{column}", table_name=table)
    if op.get_bind().dialect.name == "sqlite":

        def without_reference(sql: str) -> str:
            return sql.replace(f", \n\t{_constraint(table, column, referred)}\n", "\n")

        _rewrite_sqlite_table(table, without_reference)
    else:
        op.drop_constraint(f"fk_{table}_{column}_{referred}", table, type_="foreignkey")
    op.drop_column(table, column)


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "args", sa.JSON().with_variant(sa.JSON(none_as_null=True), "mysql"), nullable=False
        ),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("run_after", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("claim", sa.String(length=80), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after"])
    op.create_index("ix_jobs_state_created", "jobs", ["state", "created_at"])
    op.create_index(op.f("ix_jobs_created_at"), "jobs", ["created_at"])

    for table, column, referred in REFERENCES:
        _add_reference(table, column, referred)
    op.add_column("outbox", sa.Column("document_kind", sa.String(length=20), nullable=True))
    op.add_column("outbox", sa.Column("document_id", sa.Integer(), nullable=True))

    op.create_table(
        "import_files",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "chunk", sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_files_import_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_files")),
    )


def downgrade():
    op.drop_table("import_files")
    op.drop_column("outbox", "document_id")
    op.drop_column("outbox", "document_kind")
    for table, column, referred in reversed(REFERENCES):
        _drop_reference(table, column, referred)
    op.drop_index(op.f("ix_jobs_created_at"), table_name="jobs")
    op.drop_index("ix_jobs_state_created", table_name="jobs")
    op.drop_index("ix_jobs_state_run_after", table_name="jobs")
    op.drop_table("jobs")
