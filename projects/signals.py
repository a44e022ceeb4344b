"""Signals this app declares for apps above it (docs/design.md §2: lower apps never import higher ones)."""

from django.dispatch import Signal

# Sent (inside the writing transaction) when the municipalities or donors of a programme, its
# twinnings or workstreams change, so that rollups and alignment depending on them are stale.
# Arguments: programme_id.
programme_scope_changed = Signal()
