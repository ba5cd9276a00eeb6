"""Items get a content hash (the same item in a later version has the same
one) and attempts record when their results page showed model answers: the
two facts exams.taking.seen_before reads."""

from django.db import migrations, models
from django.db.models import F

from exams.models import item_content_hash


def fill_content_hashes(apps, schema_editor):
    Item = apps.get_model("exams", "Item")
    items = list(Item.objects.filter(content_hash=""))
    for item in items:
        item.content_hash = item_content_hash(item)
    Item.objects.bulk_update(items, ["content_hash"], batch_size=500)


def fill_answers_shown(apps, schema_editor):
    # Whether a results page was opened was not recorded before: an ended
    # attempt whose policy showed answers may have shown them when it ended.
    Attempt = apps.get_model("exams", "Attempt")
    Attempt.objects.filter(
        finalized_at__isnull=False,
        answers_shown_at__isnull=True,
        version__reveal_policy__in=["on_demand", "after_submit"],
    ).update(answers_shown_at=F("finalized_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0003_case_json_keeps_key_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="attempt",
            name="answers_shown_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="item",
            name="content_hash",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(fill_content_hashes, migrations.RunPython.noop),
        migrations.RunPython(fill_answers_shown, migrations.RunPython.noop),
    ]
