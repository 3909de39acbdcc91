"""videos, with RESTRICT foreign keys and the indexes keyset pagination walks.

Frozen: never import models/ here.
"""

from peewee import (
    SQL,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    MySQLDatabase,
    TextField,
)


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

    class VideoCategory(Model):
        class Meta:
            database = db
            table_name = "video_categories"

    class Video(Model):
        title = CharField(max_length=200)
        description = TextField(null=True)
        category = ForeignKeyField(VideoCategory, on_delete="RESTRICT")
        video_url = CharField(max_length=2048)
        thumbnail_url = CharField(max_length=2048, null=True)
        caption_url = CharField(max_length=2048, null=True)
        duration_seconds = IntegerField()
        view_count = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])
        is_hero = BooleanField(default=False, index=True, constraints=[SQL("DEFAULT 0")])
        published = BooleanField(default=False, index=True, constraints=[SQL("DEFAULT 0")])
        uploaded_by = ForeignKeyField(User, column_name="uploaded_by", on_delete="RESTRICT")
        created_at = DateTime6(constraints=[_now(db)])
        updated_at = DateTime6(constraints=[_now(db)])

        class Meta:
            database = db
            table_name = "videos"
            indexes = (
                (("created_at",), False),
                (("published", "category_id", "view_count"), False),
                (("published", "category_id", "view_count", "created_at"), False),
                (("published", "category_id", "created_at"), False),
                (("published", "category_id", "title"), False),
                (("published", "view_count", "created_at"), False),
                (("published", "created_at"), False),
                (("published", "title"), False),
            )

    return [Video]


def up(migrator, db):
    db.create_tables(_models(db), safe=False)


def down(migrator, db):
    db.drop_tables(_models(db), safe=False)
