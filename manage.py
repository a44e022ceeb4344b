#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinning.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings now, so a missing variable is named
    except ImproperlyConfigured as error:
        sys.exit(f"{error} For local development, set DEBUG=1.")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
