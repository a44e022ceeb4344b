"""What partners tells the apps above it (docs/architecture.md: a lower app never imports a higher one)."""

from django.dispatch import Signal

# An invitation was made or sent again: `invitation` (inside the writing transaction). The
# notifications app e-mails it after commit.
invitation_sent = Signal()
