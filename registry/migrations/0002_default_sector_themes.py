"""The default DAC sector → theme mapping (registry/sector_defaults.py), for the themes that
exist when the registry is installed. Themes created later (the demo seed) get it from
`registry.services.sector_themes_seed_defaults`."""

from django.db import migrations

from registry.sector_defaults import default_pairs


def add_defaults(apps, schema_editor):
    Theme = apps.get_model("projects", "Theme")
    SectorTheme = apps.get_model("registry", "SectorTheme")
    themes = dict(Theme.objects.values_list("code", "id"))
    for dac_code, theme_code in default_pairs():
        if theme_code in themes:
            SectorTheme.objects.get_or_create(dac_code=dac_code, theme_id=themes[theme_code])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_interventions_imports_candidates"),
        ("projects", "0002_programme_code_characters"),
    ]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
