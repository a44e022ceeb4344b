"""Every string of the project is in the Arabic catalogue, translated, and none is fuzzy."""

import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "ar" / "LC_MESSAGES" / "django.po"


def entries():
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n")[1:]:
        body = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        msgid = "".join(re.findall(r'"(.*)"', (re.search(r'^msgid ((?:".*"\n?)+)', body, re.M) or ["", ""])[1]))
        strings = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', body, re.M)
        yield block, msgid, ["".join(re.findall(r'"(.*)"', s)) for s in strings]


def test_every_message_is_translated():
    untranslated = [msgid for _block, msgid, strings in entries() if msgid and not all(strings)]
    assert untranslated == []


def test_no_translation_is_fuzzy_and_placeholders_survive():
    for block, msgid, strings in entries():
        assert "#, fuzzy" not in block, msgid
        for placeholder in set(re.findall(r"%\(\w+\)s|\{\w+\}", msgid)):
            if placeholder == "%(counter)s":
                continue  # Arabic plural forms spell out one and two
            assert all(placeholder in s for s in strings), (msgid, placeholder)


def test_babel_compiles_the_catalogue_without_errors():
    """`make messages` compiles with pybabel, which checks placeholders."""
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle, locale="ar")
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []
