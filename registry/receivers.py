"""How the registry hears that a programme tracked here changed: `projects`' own signal and
Django's model signals, handled without a query (the work is done after commit, in a task)."""

from .queue import schedule_programme_sync


def programme_saved(sender, *, instance, **kwargs) -> None:
    schedule_programme_sync(instance.pk)


def programme_scope_changed(sender, *, programme_id: int, **kwargs) -> None:
    schedule_programme_sync(programme_id)


def workstream_changed(sender, *, instance, **kwargs) -> None:
    """A workstream's theme, name or municipalities say where and on what a programme works."""
    schedule_programme_sync(instance.programme_id)
