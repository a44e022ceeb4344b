"""How notifications hear of the results framework: `indicators.signals.result_status_changed`,
handled inside the writing transaction, so a notification commits (or rolls back) with the
action that caused it.

An editor submits a whole grid at once (a total and its breakdowns): the approvers hear of it
once. Within one transaction, the first result of each group (status, indicator, municipality,
period, submitter) makes the notifications and the rest of the group are skipped, until the
group moves to another status. Each group
told leaves an on-commit marker: a savepoint that rolls back discards the markers made inside it
(and the notifications with them), so a later attempt in the same transaction tells again.
"""

from django.db import connection, transaction

from indicators.models import Result

from .services import result_status_notify

_TOLD_ATTRIBUTE = "_notifications_told"


def _told() -> dict[tuple, object]:
    told = getattr(connection, _TOLD_ATTRIBUTE, None)
    if told is None or not connection.run_on_commit:  # nothing pending: no marker can be alive
        told = {}
        setattr(connection, _TOLD_ATTRIBUTE, told)
    return told


def result_status_changed(sender, *, result: Result, previous_status: str, user, comment: str = "", **kwargs) -> None:
    told = _told()
    cell = (result.indicator_id, result.municipality_id, result.period_start)
    key = (result.status, *cell, result.submitted_by_id)
    for other in [k for k in told if k[1:4] == cell and k[0] != result.status]:
        del told[other]  # the group moved on (returned, say): its next submission is news again
    marker = told.get(key)
    if marker is not None and any(entry[1] is marker for entry in connection.run_on_commit):
        return

    def marker() -> None:  # runs on commit: the group is told for good
        told.pop(key, None)

    told[key] = marker
    transaction.on_commit(marker)
    result_status_notify(result=result, previous_status=previous_status, user=user, comment=comment)
