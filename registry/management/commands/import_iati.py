"""`manage.py import_iati FILE…`: import IATI activity files of any size (the upload page and
the API take up to 20 MB). Each file is read as a stream, as on the page, with the same rules."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry import services


class Command(BaseCommand):
    help = "Import IATI 2.01–2.03 activity XML files into the aid registry (idempotent by iati-identifier)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, **options):
        failed = False
        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
            try:
                with path.open("rb") as source:
                    record = services.iati_import_create(source=source, file_name=path.name, large=True)
            except ValidationError as error:
                failed = True
                self.stderr.write(f"{path}: {' '.join(error.messages)}")
                continue
            self.stdout.write(
                f"{path}: {record.get_status_display()}: {record.activities_created} created, "
                f"{record.activities_updated} updated, {record.activities_unchanged} unchanged, "
                f"{record.activities_skipped} skipped (not in Libya), {len(record.errors)} refused."
            )
            for error in record.errors:
                self.stdout.write(f"  {error['activity'] or '-'} {error['path']}: {error['message']}")
        if failed:
            raise CommandError("Some files could not be imported; nothing was written from them.")
