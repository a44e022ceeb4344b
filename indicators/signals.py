"""What the results framework tells the apps above it, without importing them.

Each signal is sent inside the writing transaction, by the service that made the change, so a
receiver that marks derived numbers stale does so in the same transaction (a rollback undoes
both). The rollups app receives all three (`rollups.apps`).
"""

from django.dispatch import Signal

# Results of these cells changed (value, status, creation, deletion) and nothing else did.
# `cells`: (indicator id, municipality id, disaggregation category, option) tuples; ("", "") is
# the total.
result_cells_changed = Signal()

# Anything else that can move an indicator's numbers: a target, the indicator's definition.
# `indicator_ids`: an iterable of ids.
indicators_changed = Signal()

# What lines indicators up against national targets and funder goals moved: an alignment, a
# goal's place in its tree, an indicator or target deleted.
alignment_inputs_changed = Signal()

# Results moved through the approval workflow: submitted (or created submitted or approved),
# approved, returned, reopened. `moves`: (result as saved, its status before; "" when it was
# created) pairs, all the results one write moved, so a receiver handles a whole grid or import at
# once; `user`: who did it; `comment`: the return comment, or "". Sent after the change is saved.
result_status_changed = Signal()
