"""The registry's Celery tasks: thin, taking ids, each calling one service. Idempotent: a
retry or a second delivery finds the same state and changes nothing more."""

from celery import shared_task

from . import services


@shared_task(name="registry.sync_programme")
def sync_programme(programme_id: int) -> None:
    services.programme_intervention_refresh(programme_id=programme_id)


@shared_task(name="registry.detect_overlaps")
def detect_overlaps(intervention_ids: list[int] | None = None) -> None:
    services.overlap_candidates_refresh(intervention_ids=intervention_ids)


@shared_task(name="registry.refresh")
def refresh() -> None:
    services.registry_refresh()
