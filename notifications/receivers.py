"""How notifications hear of the results framework: `indicators.signals.result_status_changed`,
handled inside the writing transaction, so a notification commits (or rolls back) with the
action that caused it.

An editor submits a whole grid at once (a total and its breakdowns): the approvers hear of it
once. Within one transaction, the first result of each group (status, indicator, municipality,
period, submitter) makes the notifications and the rest of the group are skipped, until the
group moves to another status. Each group told leaves an on-commit marker: a savepoint that
rolls back discards the markers made inside it (and the notifications with them), so a later
attempt in the same transaction tells again.
"""

from django.db import connection, transaction

from indicators.models import Result

from .services import invitation_email_soon, results_status_notify

_TOLD_ATTRIBUTE = "_notifications_told"

Cell = tuple  # (indicator id, municipality id, period start)


def _told() -> dict[Cell, tuple[str, int | None, object]]:
    """This connection's groups told of: cell → (status, submitter, on-commit marker)."""
    told = getattr(connection, _TOLD_ATTRIBUTE, None)
    if told is None or not connection.run_on_commit:  # nothing pending: no marker can be alive
        told = {}
        setattr(connection, _TOLD_ATTRIBUTE, told)
    return told


def result_status_changed(sender, *, moves: list[tuple[Result, str]], user, comment: str = "", **kwargs) -> None:
    told = _told()
    alive = {id(entry[1]) for entry in connection.run_on_commit}
    news = []
    for result, previous in moves:
        cell = (result.indicator_id, result.municipality_id, result.period_start)
        seen = told.get(cell)
        if seen is not None and seen[:2] == (result.status, result.submitted_by_id) and id(seen[2]) in alive:
            continue  # its group was told of in this transaction

        def marker(cell: Cell = cell) -> None:  # runs on commit: the group is told for good
            told.pop(cell, None)

        # A group that moved on (returned, say) is replaced: its next submission is news again.
        told[cell] = (result.status, result.submitted_by_id, marker)
        transaction.on_commit(marker)
        alive.add(id(marker))
        news.append((result, previous))
    if news:
        results_status_notify(moves=news, user=user, comment=comment)


def invitation_sent(sender, *, invitation, **kwargs) -> None:
    """`partners.signals.invitation_sent`: the invitation's e-mail goes out after commit."""
    invitation_email_soon(invitation.pk)
