"""Fast bulk inserts for large imports and proof trees: COPY on PostgreSQL, one executemany on SQLite.

The ORM's bulk_create spends most of its time preparing values field by field; rows that are already plain
tuples go in several times faster this way. Callers pass values in database form (JSON as text) and run
inside their own transaction.
"""

from collections.abc import Iterable, Sequence

from django.db import connection


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({column_list}) VALUES ({placeholders})", list(rows))
