"""The one base of the refusals that services raise besides field errors.

Each kind carries the HTTP status the API answers with and the body it shows, so the API's
exception handler (`common.api.exceptions`) needs to know no domain to answer correctly.
"""

from typing import Any


class ServiceError(Exception):
    """A refusal that is not a field message: a stale version, a locked object, a bulk write
    with bad rows. `http_status` and `as_data()` are what a REST client receives."""

    http_status = 400

    def as_data(self) -> Any:
        return {"detail": str(self)}
