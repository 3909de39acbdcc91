"""users: accounts and their role. Frozen: never import models/ here."""

from peewee import SQL, CharField, Check, DateTimeField, Model, MySQLDatabase


class DateTime6(DateTimeField):
    def get_modifiers(self):
        return [6]


def _now(db):
    # A database-side default, for tools outside the server that insert rows.
    if isinstance(db, MySQLDatabase):
        return SQL("DEFAULT CURRENT_TIMESTAMP(6)")
    return SQL("DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def _one_of(db, column, values):
    # MySQL compares with the column's case-insensitive collation unless told otherwise.
    subject = f"BINARY {column}" if isinstance(db, MySQLDatabase) else column
    return Check(f"{subject} IN ({', '.join(repr(v) for v in values)})")


def _models(db):
    class User(Model):
        email = CharField(max_length=254, unique=True)
        password_hash = CharField(max_length=255)
        display_name = CharField(max_length=100)
        role = CharField(
            max_length=10,
            default="member",
            constraints=[SQL("DEFAULT 'member'"), _one_of(db, "role", ("member", "admin"))],
        )
        created_at = DateTime6(constraints=[_now(db)])
        updated_at = DateTime6(constraints=[_now(db)])

        class Meta:
            database = db
            table_name = "users"

    return [User]


def up(migrator, db):
    db.create_tables(_models(db), safe=False)


def down(migrator, db):
    db.drop_tables(_models(db), safe=False)
