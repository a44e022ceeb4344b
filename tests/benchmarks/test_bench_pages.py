"""bench_pages runs end to end (on a tiny dataset of its own: the full one is for the command line)."""

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_bench_pages_builds_and_times_every_page(settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    out = io.StringIO()
    call_command(
        "bench_pages",
        "--build",
        "--dataset",
        "own",
        "--municipalities",
        "12",
        "--donors",
        "2",
        "--programmes",
        "2",
        "--indicators",
        "2",
        "--repeat",
        "1",
        stdout=out,
    )
    text = out.getvalue()
    for page in ("ministry dashboard", "donor dashboard", "programme page (IPTT)", "approval queue"):
        assert page in text
    assert "HTTP" not in text
