"""Every string of the project is in the Arabic catalogue, translated, and none is fuzzy."""

import io
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


def test_each_message_is_in_the_catalogue_once():
    """A message added twice (two branches each adding it) compiles silently, the last one
    winning: a later correction of the first would not show."""
    seen, twice = set(), []
    for block, msgid, _strings in entries():
        context = re.search(r'^msgctxt "(.*)"', block, re.M)
        key = (context[1] if context else None, msgid)
        if msgid and key in seen:
            twice.append(key)
        seen.add(key)
    assert twice == []


def test_babel_compiles_the_catalogue_without_errors():
    """`make messages` compiles with pybabel, which checks placeholders."""
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle, locale="ar")
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []


# Every translatable string of the sources ---------------------------------------------------

ROOT = CATALOGUE.parents[3]
NOT_SOURCES = {"tests", "locale", "static", "seeds", "docs", "deploy", "scripts"}
# Django's marking functions, as `makemessages` passes them to xgettext, in Babel's notation:
# None: the first argument; (1, "c"): the first is the context.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def extract_django_template(fileobj, keywords, comment_tags, options):
    """Babel extraction for Django templates: Django's own `templatize` (what `makemessages`
    runs, with no GNU gettext involved) turns the template into gettext calls, which Babel's
    Python extractor reads. Indentation is dropped: the blanked-out text is not Python, and
    every call stays on its line, so line numbers hold."""
    from babel.messages.extract import extract_python
    from django.utils.translation.template import templatize

    code = templatize(fileobj.read().decode("utf-8"))
    code = "\n".join(line.lstrip() for line in code.splitlines())
    yield from extract_python(io.BytesIO(code.encode("utf-8")), keywords, comment_tags, options)


def source_files():
    for top in sorted(ROOT.iterdir()):
        if top.name in NOT_SOURCES or top.name.startswith("."):
            continue
        if top.name == "templates":
            for path in sorted(top.rglob("*")):
                if path.suffix in (".html", ".txt", ".xml"):
                    yield path, extract_django_template
        elif (top / "__init__.py").exists():
            for path in sorted(top.rglob("*.py")):
                yield path, "python"


def source_messages():
    """(where, msgid, plural or None, context or None) of every marked string of the sources."""
    from babel.messages.extract import extract

    for path, method in source_files():
        with path.open("rb") as handle:
            for lineno, message, _comments, context in extract(method, handle, keywords=KEYWORDS):
                singular, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
                yield f"{path.relative_to(ROOT)}:{lineno}", singular, plural, context


def test_every_string_of_the_sources_has_an_arabic_translation():
    """Each string marked for translation in the Python sources and the templates has a
    non-empty, non-fuzzy Arabic translation, with every plural form Arabic has."""
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle, locale="ar")
    missing = []
    seen = 0
    for where, msgid, plural, context in source_messages():
        seen += 1
        message = catalog.get(msgid, context=context)
        if message is None or message.fuzzy:
            problem = "not in the catalogue"
        elif plural is not None and not message.pluralizable:
            problem = "in the catalogue without its plural forms"
        else:
            strings = message.string if message.pluralizable else (message.string,)
            if message.pluralizable and len(strings) < catalog.num_plurals:
                problem = f"has {len(strings)} of Arabic's {catalog.num_plurals} plural forms"
            elif not all(strings):
                problem = "not translated"
            else:
                continue
        label = f"{context}|{msgid}" if context else msgid
        missing.append(f"{where}: {label!r} {problem}")
    assert seen > 500, "the extraction found too few strings: it is not reading the sources"
    assert missing == [], "\n".join(missing)
