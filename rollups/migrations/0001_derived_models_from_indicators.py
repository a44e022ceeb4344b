"""The derived-number models, moved from indicators with their tables (state only)."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ['rollup', 'indicatorrollupstate', 'rollupcellrequest', 'alignmentsnapshot', 'nationaltargetprogress', 'fundergoalprogress', 'alignmentmatrixcell', 'alignmentoverlap']


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="indicators", model__in=MOVED).update(app_label="rollups")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="rollups", model__in=MOVED).update(app_label="indicators")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('indicators', '0009_derived_models_move_to_rollups_and_reporting'),
        ('partners', '0001_organisations_memberships'),
        ('projects', '0001_programmes_twinnings_workstreams'),
    ]


    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='AlignmentSnapshot',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('requested_version', models.BigIntegerField(default=0, verbose_name='requested version')),
                    ('computed_version', models.BigIntegerField(default=0, verbose_name='computed version')),
                    ('dirty_since', models.DateTimeField(blank=True, null=True, verbose_name='stale since')),
                    ('computed_at', models.DateTimeField(blank=True, null=True, verbose_name='computed at')),
                ],
                options={
                    'verbose_name': 'alignment snapshot',
                    'verbose_name_plural': 'alignment snapshots',
                    'db_table': 'indicators_alignmentsnapshot',
                },
            ),
            migrations.CreateModel(
                name='FunderGoalProgress',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('progress', models.DecimalField(blank=True, decimal_places=2, max_digits=30, null=True, verbose_name='progress')),
                    ('indicators', models.JSONField(default=list, verbose_name='indicators')),
                    ('not_measurable', models.JSONField(default=list, verbose_name='not measurable indicators')),
                    ('programmes', models.JSONField(default=list, verbose_name='programmes')),
                    ('donors', models.JSONField(default=list, verbose_name='donors')),
                    ('municipalities', models.JSONField(default=list, verbose_name='municipalities')),
                    ('is_gap', models.BooleanField(default=False, verbose_name='is a gap')),
                    ('computed_at', models.DateTimeField(verbose_name='computed at')),
                    ('funder_goal', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='stored_progress', to='indicators.fundergoal', verbose_name='funder goal')),
                ],
                options={
                    'verbose_name': 'funder goal progress',
                    'verbose_name_plural': 'funder goal progress',
                    'db_table': 'indicators_fundergoalprogress',
                },
            ),
            migrations.CreateModel(
                name='IndicatorRollupState',
                fields=[
                    ('indicator', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='rollup_state', serialize=False, to='indicators.indicator', verbose_name='indicator')),
                    ('requested_version', models.BigIntegerField(default=0, verbose_name='requested version')),
                    ('computed_version', models.BigIntegerField(default=0, verbose_name='computed version')),
                    ('dirty_since', models.DateTimeField(blank=True, null=True, verbose_name='stale since')),
                    ('computed_at', models.DateTimeField(blank=True, null=True, verbose_name='computed at')),
                ],
                options={
                    'verbose_name': 'indicator rollup state',
                    'verbose_name_plural': 'indicator rollup states',
                    'db_table': 'indicators_indicatorrollupstate',
                    'indexes': [models.Index(condition=models.Q(('requested_version__gt', models.F('computed_version'))), fields=['indicator'], name='rollup_state_pending_idx')],
                },
            ),
            migrations.CreateModel(
                name='NationalTargetProgress',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('progress', models.DecimalField(blank=True, decimal_places=2, max_digits=30, null=True, verbose_name='progress')),
                    ('indicators', models.JSONField(default=list, verbose_name='indicators')),
                    ('not_measurable', models.JSONField(default=list, verbose_name='not measurable indicators')),
                    ('programmes', models.JSONField(default=list, verbose_name='programmes')),
                    ('donors', models.JSONField(default=list, verbose_name='donors')),
                    ('municipalities', models.JSONField(default=list, verbose_name='municipalities')),
                    ('is_gap', models.BooleanField(default=False, verbose_name='is a gap')),
                    ('computed_at', models.DateTimeField(verbose_name='computed at')),
                    ('national_target', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='stored_progress', to='indicators.nationaltarget', verbose_name='national target')),
                ],
                options={
                    'verbose_name': 'national target progress',
                    'verbose_name_plural': 'national target progress',
                    'db_table': 'indicators_nationaltargetprogress',
                },
            ),
            migrations.CreateModel(
                name='RollupCellRequest',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('municipality_id', models.BigIntegerField(verbose_name='municipality id')),
                    ('disaggregation_category', models.CharField(blank=True, default='', max_length=40, verbose_name='disaggregation category')),
                    ('disaggregation_option', models.CharField(blank=True, default='', max_length=40, verbose_name='disaggregation option')),
                    ('requested_at', models.DateTimeField(auto_now_add=True, verbose_name='requested at')),
                    ('indicator', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='indicators.indicator', verbose_name='indicator')),
                ],
                options={
                    'verbose_name': 'rollup cell request',
                    'verbose_name_plural': 'rollup cell requests',
                    'db_table': 'indicators_rollupcellrequest',
                },
            ),
            migrations.CreateModel(
                name='AlignmentMatrixCell',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('progress', models.DecimalField(blank=True, decimal_places=2, max_digits=30, null=True, verbose_name='progress')),
                    ('indicators', models.JSONField(default=list, verbose_name='indicators')),
                    ('programmes', models.JSONField(default=list, verbose_name='programmes')),
                    ('donors', models.JSONField(default=list, verbose_name='donors')),
                    ('municipalities', models.JSONField(default=list, verbose_name='municipalities')),
                    ('computed_at', models.DateTimeField(verbose_name='computed at')),
                    ('funder_goal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='indicators.fundergoal', verbose_name='funder goal')),
                    ('national_target', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='indicators.nationaltarget', verbose_name='national target')),
                ],
                options={
                    'verbose_name': 'alignment matrix cell',
                    'verbose_name_plural': 'alignment matrix cells',
                    'db_table': 'indicators_alignmentmatrixcell',
                    'constraints': [models.UniqueConstraint(fields=('national_target', 'funder_goal'), name='alignment_matrix_unique_pair')],
                },
            ),
            migrations.CreateModel(
                name='AlignmentOverlap',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('programmes', models.JSONField(default=list, verbose_name='programmes')),
                    ('donors', models.JSONField(default=list, verbose_name='donors')),
                    ('computed_at', models.DateTimeField(verbose_name='computed at')),
                    ('municipality', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='partners.organisation', verbose_name='municipality')),
                    ('theme', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='projects.theme', verbose_name='theme')),
                ],
                options={
                    'verbose_name': 'alignment overlap',
                    'verbose_name_plural': 'alignment overlaps',
                    'db_table': 'indicators_alignmentoverlap',
                    'constraints': [models.UniqueConstraint(fields=('municipality', 'theme'), name='alignment_overlap_unique_place')],
                },
            ),
            migrations.CreateModel(
                name='Rollup',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('scope', models.CharField(choices=[('municipality', 'Municipality'), ('twinning', 'Twinning'), ('programme', 'Programme')], max_length=12, verbose_name='scope')),
                    ('scope_id', models.BigIntegerField(verbose_name='scope id')),
                    ('period_start', models.DateField(blank=True, null=True, verbose_name='period start')),
                    ('period_end', models.DateField(blank=True, null=True, verbose_name='period end')),
                    ('disaggregation_category', models.CharField(blank=True, default='', max_length=40, verbose_name='disaggregation category')),
                    ('disaggregation_option', models.CharField(blank=True, default='', max_length=40, verbose_name='disaggregation option')),
                    ('actual', models.DecimalField(blank=True, decimal_places=6, max_digits=28, null=True, verbose_name='actual')),
                    ('target', models.DecimalField(blank=True, decimal_places=6, max_digits=28, null=True, verbose_name='target')),
                    ('percent_of_target', models.DecimalField(blank=True, decimal_places=2, max_digits=30, null=True, verbose_name='percent of target')),
                    ('status', models.CharField(choices=[('no_data', 'No data'), ('no_target', 'No target'), ('below', 'Below target'), ('on_track', 'On track'), ('above', 'Above target')], max_length=10, verbose_name='status')),
                    ('computed_at', models.DateTimeField(verbose_name='computed at')),
                    ('indicator', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rollups', to='indicators.indicator', verbose_name='indicator')),
                ],
                options={
                    'verbose_name': 'rollup',
                    'verbose_name_plural': 'rollups',
                    'db_table': 'indicators_rollup',
                    'ordering': ['indicator', 'scope', 'scope_id', 'period_start', 'disaggregation_category'],
                    'constraints': [models.UniqueConstraint(fields=('indicator', 'scope_id', 'period_start', 'period_end', 'scope', 'disaggregation_category', 'disaggregation_option'), name='rollup_unique_cell'), models.UniqueConstraint(condition=models.Q(('period_start__isnull', True)), fields=('indicator', 'scope', 'scope_id', 'disaggregation_category', 'disaggregation_option'), name='rollup_unique_lop_cell'), models.CheckConstraint(condition=models.Q(models.Q(('period_end__isnull', True), ('period_start__isnull', True)), models.Q(('period_end__isnull', False), ('period_start__isnull', False)), _connector='OR'), name='rollup_period_both_or_neither')],
                },
            ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, reverse_code=move_content_types_back),
    ]
