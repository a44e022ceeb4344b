"""`manage.py refresh_registry`: bring every programme's intervention up to date and run the
duplicate detector over the whole registry (what the nightly task does; use it after a broker
outage or when the registry is installed on a database with programmes)."""

from django.core.management.base import BaseCommand

from registry import services


class Command(BaseCommand):
    help = "Refresh the programmes' interventions and rerun the duplicate detector over the whole registry."

    def handle(self, *args, **options):
        outcome = services.registry_refresh()
        self.stdout.write(
            "Candidates: {found} found, {created} new, {updated} updated ({reopened} reopened), "
            "{removed} removed.".format(**outcome)
        )
