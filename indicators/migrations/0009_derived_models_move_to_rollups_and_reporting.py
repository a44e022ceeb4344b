"""The rollup, queue and alignment-snapshot models moved to the rollups app, the report content version to reporting: state only, the tables stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0008_report_content_version'),
    ]


    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.RemoveField(
                model_name='alignmentmatrixcell',
                name='funder_goal',
            ),
            migrations.RemoveField(
                model_name='alignmentmatrixcell',
                name='national_target',
            ),
            migrations.RemoveField(
                model_name='alignmentoverlap',
                name='municipality',
            ),
            migrations.RemoveField(
                model_name='alignmentoverlap',
                name='theme',
            ),
            migrations.DeleteModel(
                name='AlignmentSnapshot',
            ),
            migrations.RemoveField(
                model_name='fundergoalprogress',
                name='funder_goal',
            ),
            migrations.RemoveField(
                model_name='indicatorrollupstate',
                name='indicator',
            ),
            migrations.RemoveField(
                model_name='nationaltargetprogress',
                name='national_target',
            ),
            migrations.DeleteModel(
                name='ReportContentVersion',
            ),
            migrations.RemoveField(
                model_name='rollup',
                name='indicator',
            ),
            migrations.RemoveField(
                model_name='rollupcellrequest',
                name='indicator',
            ),
            migrations.DeleteModel(
                name='AlignmentMatrixCell',
            ),
            migrations.DeleteModel(
                name='AlignmentOverlap',
            ),
            migrations.DeleteModel(
                name='FunderGoalProgress',
            ),
            migrations.DeleteModel(
                name='IndicatorRollupState',
            ),
            migrations.DeleteModel(
                name='NationalTargetProgress',
            ),
            migrations.DeleteModel(
                name='Rollup',
            ),
            migrations.DeleteModel(
                name='RollupCellRequest',
            ),
            ],
            database_operations=[],
        ),
    ]
