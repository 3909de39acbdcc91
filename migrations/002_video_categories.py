"""video_categories. Frozen: never import models/ here."""

from peewee import SQL, BooleanField, CharField, DateTimeField, IntegerField, Model, MySQLDatabase


class DateTime6(DateTimeField):
    def get_modifiers(self):
        return [6]


def _now(db):
    # A database-side default, for tools outside the server that insert rows.
    if isinstance(db, MySQLDatabase):
        return SQL("DEFAULT CURRENT_TIMESTAMP(6)")
    return SQL("DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def _models(db):
    class VideoCategory(Model):
        name = CharField(max_length=100)
        slug = CharField(max_length=100, unique=True)
        sort_order = IntegerField(default=0, index=True, constraints=[SQL("DEFAULT 0")])
        is_active = BooleanField(default=True, constraints=[SQL("DEFAULT 1")])
        created_at = DateTime6(constraints=[_now(db)])
        updated_at = DateTime6(constraints=[_now(db)])

        class Meta:
            database = db
            table_name = "video_categories"

    return [VideoCategory]


def up(migrator, db):
    db.create_tables(_models(db), safe=False)


def down(migrator, db):
    db.drop_tables(_models(db), safe=False)
