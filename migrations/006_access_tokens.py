"""access_tokens: revocable bearer tokens, stored as keyed hashes only.

Frozen: never import models/ here.
"""

from peewee import SQL, BigAutoField, CharField, DateTimeField, ForeignKeyField, Model, MySQLDatabase


class DateTime6(DateTimeField):
    def get_modifiers(self):
        return [6]


def _now(db):
    # A database-side default, for tools outside the server that insert rows.
    if isinstance(db, MySQLDatabase):
        return SQL("DEFAULT CURRENT_TIMESTAMP(6)")
    return SQL("DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def _models(db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class AccessToken(Model):
        id = BigAutoField()
        user = ForeignKeyField(User, on_delete="CASCADE")
        token_hash = CharField(max_length=64, unique=True)
        created_at = DateTime6(constraints=[_now(db)])
        expires_at = DateTime6(index=True)

        class Meta:
            database = db
            table_name = "access_tokens"

    return [AccessToken]


def up(migrator, db):
    db.create_tables(_models(db), safe=False)


def down(migrator, db):
    db.drop_tables(_models(db), safe=False)
