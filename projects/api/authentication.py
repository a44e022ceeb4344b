"""Token sign-in that reads the user and their memberships in one round trip.

Every API request needs both: the token names the user, the memberships decide what they see
(docs/design.md §7). DRF's TokenAuthentication reads the token and user, then `access_for` reads the
memberships; on PostgreSQL this does both in one query. Other databases (the SQLite demo) use
DRF's own path.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed, Throttled

from common.api.throttling import FailedTokenThrottle
from partners.models import Membership, Organisation
from projects.access import attach_access


class TokenAndAccessAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        """The token's user; wrong tokens are counted per address and, past the rate
        (`token_failures`), refused with a 429 before they are looked up (common.api.throttling)."""
        failures = FailedTokenThrottle()
        wait = failures.wait_before_trying(self.request)
        if wait is not None:
            raise Throttled(wait=wait)
        try:
            return self._user_and_access(key)
        except AuthenticationFailed:
            failures.record_failure(self.request)
            raise

    def authenticate(self, request):
        self.request = request
        return super().authenticate(request)

    def _user_and_access(self, key):
        if connection.vendor != "postgresql":
            return super().authenticate_credentials(key)
        user_model = get_user_model()
        fields = user_model._meta.concrete_fields
        columns = ", ".join(f'u."{field.column}"' for field in fields)
        memberships = (
            "SELECT COALESCE(json_agg(json_build_array(m.organisation_id, o.kind, m.role)), '[]'::json) "
            f"FROM {Membership._meta.db_table} m JOIN {Organisation._meta.db_table} o ON o.id = m.organisation_id "
            "WHERE m.user_id = u.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns}, ({memberships}) FROM {Token._meta.db_table} t "
                f"JOIN {user_model._meta.db_table} u ON u.id = t.user_id WHERE t.key = %s",
                [key],
            )
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("Invalid token."))
        user = user_model.from_db(connection.alias, [field.attname for field in fields], row[:-1])
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        attach_access(user, row[-1])
        return user, Token(key=key, user=user)
