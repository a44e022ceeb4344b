"""The report content version, moved from indicators with its table (state only)."""

from django.db import migrations, models

MOVED = ['reportcontentversion']


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="indicators", model__in=MOVED).update(app_label="reporting")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="reporting", model__in=MOVED).update(app_label="indicators")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('indicators', '0009_derived_models_move_to_rollups_and_reporting'),
    ]


    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='ReportContentVersion',
                fields=[
                    ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                    ('version', models.BigIntegerField(default=0, verbose_name='version')),
                ],
                options={
                    'verbose_name': 'report content version',
                    'verbose_name_plural': 'report content versions',
                    'db_table': 'indicators_reportcontentversion',
                    'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='report_content_version_single_row')],
                },
            ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, reverse_code=move_content_types_back),
    ]
