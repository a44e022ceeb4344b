"""Who sees and does what (docs/design.md §7), in one place for the API, the pages and the reports.

Superusers see everything. Otherwise memberships decide: ministry members see every programme;
donor members the programmes they fund; implementer members the programmes they implement;
municipality members the programmes their municipality takes part in. What a member may do
follows from the role: viewer < editor < approver < admin.

One reading of the contract is written down here: a member who sees a programme *only* through a
municipality sees that programme's structure, indicators, targets and programme- or twinning-wide
totals, but the results and municipality rollups of its own municipality only. Colleagues in a
twinned municipality thus see the shared totals, not each other's raw entries.

`access_for(user)` is computed once per request (a handful of queries) and cached on the user;
every scoped queryset is then a plain `pk__in` filter, so lists cost the same at any size.
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from partners.models import Membership, Organisation

from .models import Programme, Twinning, Workstream

ROLE_RANK = {
    Membership.Role.VIEWER: 0,
    Membership.Role.EDITOR: 1,
    Membership.Role.APPROVER: 2,
    Membership.Role.ADMIN: 3,
}


@dataclass(frozen=True)
class MembershipGrant:
    organisation_id: int
    kind: str
    role: str

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


@dataclass
class Access:
    user_id: int | None
    is_superuser: bool = False
    grants: tuple[MembershipGrant, ...] = field(default_factory=tuple)

    # Who the user is ---------------------------------------------------------------------

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def organisation_ids(self, kind: str | None = None, role: str = Membership.Role.VIEWER) -> set[int]:
        return {
            grant.organisation_id
            for grant in self.grants
            if (kind is None or grant.kind == kind) and grant.at_least(role)
        }

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or bool(self.organisation_ids(Organisation.Kind.MINISTRY))

    @property
    def municipality_ids(self) -> set[int]:
        return self.organisation_ids(Organisation.Kind.MUNICIPALITY)

    @property
    def donor_ids(self) -> set[int]:
        return self.organisation_ids(Organisation.Kind.DONOR)

    # Which programmes --------------------------------------------------------------------

    @cached_property
    def fully_visible_programme_ids(self) -> frozenset[int] | None:
        """Programmes seen whole (None means every programme)."""
        if self.sees_everything:
            return None
        donors = self.donor_ids
        implementers = self.organisation_ids(Organisation.Kind.IMPLEMENTER)
        if not donors and not implementers:
            return frozenset()
        return frozenset(
            Programme.objects.filter(Q(donors__in=donors) | Q(implementer_id__in=implementers))
            .values_list("pk", flat=True)
            .distinct()
        )

    @cached_property
    def municipal_programme_ids(self) -> frozenset[int]:
        """Programmes seen only because one of the user's municipalities takes part in them."""
        municipalities = self.municipality_ids
        if not municipalities or self.fully_visible_programme_ids is None:
            return frozenset()
        ids = set(
            Twinning.municipalities.through.objects.filter(organisation_id__in=municipalities).values_list(
                "twinning__programme_id", flat=True
            )
        ) | set(
            Workstream.municipalities.through.objects.filter(organisation_id__in=municipalities).values_list(
                "workstream__programme_id", flat=True
            )
        )
        return frozenset(ids - self.fully_visible_programme_ids)

    @property
    def programme_ids(self) -> frozenset[int] | None:
        """Every programme the user sees in any way (None means all)."""
        if self.fully_visible_programme_ids is None:
            return None
        return self.fully_visible_programme_ids | self.municipal_programme_ids

    def sees_programme(self, programme_id: int) -> bool:
        ids = self.programme_ids
        return ids is None or programme_id in ids

    # Scoped querysets --------------------------------------------------------------------

    def programme_filter(self, path: str = "") -> Q:
        """A filter for objects that hang off a programme; `path` leads from the object to it,
        e.g. "indicator__programme" for results."""
        ids = self.programme_ids
        if ids is None:
            return Q()
        lookup = f"{path}_id__in" if path else "pk__in"
        return Q(**{lookup: ids})

    def programmes(self, queryset: QuerySet | None = None) -> QuerySet:
        queryset = Programme.objects.all() if queryset is None else queryset
        return queryset.filter(self.programme_filter())

    def scoped(self, queryset: QuerySet, path: str) -> QuerySet:
        return queryset.filter(self.programme_filter(path))

    def result_filter(self, programme_path: str = "indicator__programme", municipality_path: str = "municipality") -> Q:
        """Results: whole programmes seen fully, own municipalities in programmes seen through them."""
        if self.fully_visible_programme_ids is None:
            return Q()
        return Q(**{f"{programme_path}_id__in": self.fully_visible_programme_ids}) | Q(
            **{
                f"{programme_path}_id__in": self.municipal_programme_ids,
                f"{municipality_path}_id__in": self.municipality_ids,
            }
        )

    def rollup_filter(self, programme_path: str = "indicator__programme") -> Q:
        """Rollups: as results, except that twinning- and programme-wide totals of a programme
        seen through a municipality are shared with its members."""
        if self.fully_visible_programme_ids is None:
            return Q()
        return Q(**{f"{programme_path}_id__in": self.fully_visible_programme_ids}) | (
            Q(**{f"{programme_path}_id__in": self.municipal_programme_ids})
            & (~Q(scope="municipality") | Q(scope_id__in=self.municipality_ids))
        )

    def funder_goal_filter(self, donor_path: str = "donor") -> Q:
        """Funder goals are seen by their donor's members and by the ministry."""
        if self.sees_everything:
            return Q()
        return Q(**{f"{donor_path}_id__in": self.donor_ids})

    def membership_filter(self, organisation_path: str = "organisation", user_path: str = "user") -> Q:
        """Memberships: superusers see all; others their own and those of organisations they administer."""
        if self.is_superuser:
            return Q()
        return Q(**{f"{user_path}_id": self.user_id}) | Q(
            **{f"{organisation_path}_id__in": self.organisation_ids(role=Membership.Role.ADMIN)}
        )

    def member_candidate_filter(self) -> Q:
        """Users this user may name in a new membership: superusers anyone; an organisation's
        admins the members of the organisations they administer and active users, not superusers,
        who belong to no organisation yet (new accounts); others no one. Anyone else is answered as if the username
        did not exist, so usernames cannot be probed (docs/security.md)."""
        if self.is_superuser:
            return Q()
        administered = self.organisation_ids(role=Membership.Role.ADMIN)
        if not administered:
            return Q(pk__in=[])
        members = Membership.objects.filter(organisation_id__in=administered).values("user_id")
        placed = Membership.objects.values("user_id")
        return Q(pk__in=members) | (Q(is_active=True, is_superuser=False) & ~Q(pk__in=placed))

    def alignment_filter(self, indicator_path: str = "indicator", goal_path: str = "funder_goal") -> Q:
        """Alignments: of indicators the user sees; for funder goals, goals the user sees, and
        any goal of a programme's donors for whoever aligns that programme (`can_align`: they
        may write those alignments, so they read them back too)."""
        programmes = self.programme_filter(f"{indicator_path}__programme")
        if self.sees_everything:
            return programmes
        goals = Q(**{f"{goal_path}__isnull": True}) | self.funder_goal_filter(f"{goal_path}__donor")
        if self._programmes_editable:
            funds_the_programme = Programme.donors.through.objects.filter(
                programme_id=OuterRef(f"{indicator_path}__programme_id"),
                organisation_id=OuterRef(f"{goal_path}__donor_id"),
            )
            goals |= Q(**{f"{indicator_path}__programme_id__in": self._programmes_editable}) & Q(
                Exists(funds_the_programme)
            )
        # (Q() | x is x, so the "all goals" case above cannot be folded into this one.)
        return programmes & goals

    @property
    def scope_key(self) -> str:
        """A string that is equal for two users exactly when they see the same things (for caches)."""
        if self.sees_everything:
            return "all"
        programmes = ",".join(map(str, sorted(self.fully_visible_programme_ids or ())))
        municipal = ",".join(map(str, sorted(self.municipal_programme_ids)))
        municipalities = ",".join(map(str, sorted(self.municipality_ids))) if municipal else ""
        donors = ",".join(map(str, sorted(self.donor_ids)))
        return f"p{programmes}|m{municipal}|o{municipalities}|d{donors}"

    # What the user may do ----------------------------------------------------------------

    def may_write_anything(self) -> bool:
        """Whether any write could be allowed: superusers and editors (or higher) of some organisation."""
        return self.is_superuser or any(grant.at_least(Membership.Role.EDITOR) for grant in self.grants)

    def can_edit_programme_id(self, programme_id: int) -> bool:
        return self.is_superuser or programme_id in self._programmes_editable

    @property
    def edits_some_programme(self) -> bool:
        return self.is_superuser or bool(self._programmes_editable)

    def can_create_programmes(self) -> bool:
        return self.is_superuser or bool(
            self.organisation_ids(Organisation.Kind.IMPLEMENTER, Membership.Role.EDITOR)
            | self.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.EDITOR)
        )

    def implemented_programme_ids(self, role: str) -> frozenset[int]:
        implementers = self.organisation_ids(Organisation.Kind.IMPLEMENTER, role)
        if not implementers:
            return frozenset()
        return frozenset(Programme.objects.filter(implementer_id__in=implementers).values_list("pk", flat=True))

    @cached_property
    def _programmes_editable(self) -> frozenset[int]:
        return self.implemented_programme_ids(Membership.Role.EDITOR)

    @cached_property
    def _programmes_approvable(self) -> frozenset[int]:
        return self.implemented_programme_ids(Membership.Role.APPROVER)

    def can_enter_result(self, programme_id: int, municipality_id: int) -> bool:
        """Editors enter results: implementers for their programmes, municipalities for themselves."""
        if self.is_superuser or programme_id in self._programmes_editable:
            return True
        return municipality_id in self.organisation_ids(
            Organisation.Kind.MUNICIPALITY, Membership.Role.EDITOR
        ) and self.sees_programme(programme_id)

    def can_edit_activity(self, programme_id: int, municipality_id: int | None) -> bool:
        """Implementer editors edit every activity of their programmes; a municipality's editors
        only those logged for their own municipality. A programme-wide activity (no municipality)
        is the implementer's: no municipality editor renames, cancels or zeroes it."""
        if self.can_edit_programme_id(programme_id):
            return True
        return (
            municipality_id is not None
            and municipality_id in self.organisation_ids(Organisation.Kind.MUNICIPALITY, Membership.Role.EDITOR)
            and self.sees_programme(programme_id)
        )

    def can_approve_result(self, programme_id: int, municipality_id: int) -> bool:
        """Approvers approve or return: the ministry anywhere, implementers in their programmes,
        municipalities for their own results."""
        if self.is_superuser or self.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.APPROVER):
            return True
        if programme_id in self._programmes_approvable:
            return True
        return municipality_id in self.organisation_ids(
            Organisation.Kind.MUNICIPALITY, Membership.Role.APPROVER
        ) and self.sees_programme(programme_id)

    def can_align(self, programme_id: int, goal_donor_id: int | None = None) -> bool:
        """Lining a programme's indicators up against national targets and funder goals is the
        ministry editors' and the programme's editors'; its donors and everyone else who sees it
        read the alignments. The programme's editors align to the goals of its own donors only
        (with `goal_donor_id`, the donor of the goal at hand). The API and the pages ask this."""
        if self.can_edit_national_targets():
            return True
        if not self.can_edit_programme_id(programme_id):
            return False
        return goal_donor_id is None or (
            Programme.donors.through.objects.filter(programme_id=programme_id, organisation_id=goal_donor_id).exists()
        )

    def alignment_goal_filter(self, programme_id: int, donor_path: str = "donor") -> Q:
        """The funder goals an alignment of the programme's indicators may name: its donors' goals,
        all of them for whoever aligns the programme (no one aligns to a goal they cannot see),
        otherwise only those the user sees (docs/design.md §7)."""
        funders = Q(
            **{
                f"{donor_path}_id__in": Programme.donors.through.objects.filter(programme_id=programme_id).values(
                    "organisation_id"
                )
            }
        )
        if self.can_align(programme_id):
            return funders
        return funders & self.funder_goal_filter(donor_path)

    def alignable_goal_filter(self, donor_path: str = "donor") -> Q:
        """Goals the user may name in any alignment: those seen, and the goals of the donors of the
        programmes the user edits (a subquery, so a donor of several programmes is one row)."""
        if self.sees_everything:
            return Q()
        donors = Programme.donors.through.objects.filter(programme_id__in=self._programmes_editable)
        return self.funder_goal_filter(donor_path) | Q(**{f"{donor_path}_id__in": donors.values("organisation_id")})

    def can_edit_national_targets(self) -> bool:
        return self.is_superuser or bool(self.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.EDITOR))

    def can_edit_funder_goals(self, donor_id: int) -> bool:
        """A donor's goal tree is kept by its own editors and by the ministry's, who line the
        donors' frameworks up with the national plan (issue 14); other donors never touch it."""
        return (
            self.is_superuser
            or donor_id in self.organisation_ids(Organisation.Kind.DONOR, Membership.Role.EDITOR)
            or bool(self.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.EDITOR))
        )

    def edits_some_funder_goals(self) -> bool:
        return (
            self.is_superuser
            or bool(self.organisation_ids(Organisation.Kind.DONOR, Membership.Role.EDITOR))
            or bool(self.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.EDITOR))
        )

    def can_edit_reference_data(self) -> bool:
        """Organisations and themes: shared by everyone, kept by the ministry."""
        return self.can_edit_national_targets()

    def can_edit_registry(self) -> bool:
        """The aid-coordination registry: IATI imports, the sector–theme mapping, location
        aliases and the review of duplicate candidates are the ministry editors'."""
        return self.is_superuser or bool(self.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.EDITOR))

    def manages_every_organisations_people(self) -> bool:
        """The ministry's administrators run the system: they give a new municipality, donor or
        implementer its first administrator and handle people who left, without the Django admin."""
        return self.is_superuser or bool(self.organisation_ids(Organisation.Kind.MINISTRY, Membership.Role.ADMIN))

    def can_manage_memberships(self, organisation_id: int) -> bool:
        return self.manages_every_organisations_people() or organisation_id in self.organisation_ids(
            role=Membership.Role.ADMIN
        )


ANONYMOUS = Access(user_id=None)


def access_for(user) -> Access:
    """The user's access, computed once and kept on the user object for the request."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return ANONYMOUS
    cached = getattr(user, "_twinning_access", None)
    if cached is not None:
        return cached
    rows = Membership.objects.filter(user_id=user.pk).values_list("organisation_id", "organisation__kind", "role")
    return attach_access(user, rows)


def attach_access(user, membership_rows) -> Access:
    """Build the user's access from (organisation id, organisation kind, role) rows and keep it on
    the user; for callers that read the memberships together with the user (token sign-in)."""
    grants = tuple(MembershipGrant(organisation_id, kind, role) for organisation_id, kind, role in membership_rows)
    access = Access(user_id=user.pk, is_superuser=user.is_superuser, grants=grants)
    user._twinning_access = access
    return access
