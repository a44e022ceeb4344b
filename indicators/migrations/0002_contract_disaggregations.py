"""The disaggregation categories and options that docs/design.md §3 fixes; more may be added as data."""

from django.db import migrations

CONTRACT_DISAGGREGATIONS = [
    ("sex", "Sex", "الجنس", [("female", "Female", "إناث"), ("male", "Male", "ذكور")]),
    ("age", "Age", "العمر", [("youth", "Youth", "الشباب"), ("adult", "Adult", "البالغون")]),
    (
        "disability",
        "Disability",
        "الإعاقة",
        [
            ("with_disability", "With disability", "ذوو الإعاقة"),
            ("without_disability", "Without disability", "بدون إعاقة"),
        ],
    ),
]


def create_contract_disaggregations(apps, schema_editor):
    Category = apps.get_model("indicators", "DisaggregationCategory")
    Option = apps.get_model("indicators", "DisaggregationOption")
    for code, name_en, name_ar, options in CONTRACT_DISAGGREGATIONS:
        category, _ = Category.objects.update_or_create(
            code=code, defaults={"name": name_en, "name_en": name_en, "name_ar": name_ar}
        )
        for option_code, option_en, option_ar in options:
            Option.objects.update_or_create(
                category=category,
                code=option_code,
                defaults={"name": option_en, "name_en": option_en, "name_ar": option_ar},
            )


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_indicators_targets_results")]

    operations = [migrations.RunPython(create_contract_disaggregations, migrations.RunPython.noop)]
