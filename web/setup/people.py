"""People and organisations: an organisation's administrators invite people by e-mail, change
their roles and remove them; the ministry's editors and superusers keep the list of
organisations (only superusers change a kind); an invitee follows the e-mailed link, sets a
password if the account has none, and lands signed in. Every write goes through
`partners.services`, where the rules live (one administrator at least, no address revealed)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django_countries import countries

from common.validation import messages_by_field
from notifications.selectors import preference_of
from notifications.services import preference_update
from partners.models import Invitation, Membership, Organisation
from partners.services import (
    invitation_accept,
    invitation_cancel,
    invitation_create,
    invitation_expires_at,
    invitation_for_token,
    invitation_resend,
    membership_delete,
    membership_update,
    organisation_create,
    organisation_update,
)
from projects.access import access_for

from ..forms import page_languages

HISTORY_ROWS = 30
ORGANISATIONS_PER_PAGE = 100


def _add_service_error(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """The service's messages next to the fields they name (a bilingual name's message on the
    column the page shows first); others above the form."""
    aliases = aliases or {}
    for name, field_messages in messages_by_field(error).items():
        name = aliases.get(name, name)
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


# Organisations ---------------------------------------------------------------------------------


class OrganisationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Organisation.Kind.choices)
    name_en = forms.CharField(
        label=_("Name (English)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"lang": "en", "dir": "ltr"}),
    )
    name_ar = forms.CharField(
        label=_("Name (Arabic)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"lang": "ar", "dir": "rtl"}),
    )
    acronym = forms.CharField(label=_("Acronym"), max_length=30, required=False)
    country = forms.ChoiceField(label=_("Country"))
    region_en = forms.CharField(
        label=_("Region (English)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"lang": "en", "dir": "ltr"}),
    )
    region_ar = forms.CharField(
        label=_("Region (Arabic)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"lang": "ar", "dir": "rtl"}),
    )
    population = forms.IntegerField(
        label=_("Population"), min_value=0, required=False, widget=forms.NumberInput(attrs={"dir": "ltr"})
    )
    iati_ref = forms.CharField(
        label=_("IATI organisation identifier"),
        max_length=100,
        required=False,
        help_text=_("For example US-GOV-1"),
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    pcode = forms.CharField(
        label=_("Place code"),
        max_length=20,
        required=False,
        help_text=_("The municipality's P-code, for example LY010304"),
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    latitude = forms.DecimalField(
        label=_("Latitude"),
        max_digits=8,
        decimal_places=5,
        required=False,
        widget=forms.NumberInput(attrs={"dir": "ltr", "step": "any"}),
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        max_digits=8,
        decimal_places=5,
        required=False,
        widget=forms.NumberInput(attrs={"dir": "ltr", "step": "any"}),
    )

    def __init__(self, *args, with_kind: bool, names_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_kind:
            del self.fields["kind"]
        if names_only:
            for name in set(self.fields) - {"name_en", "name_ar", "acronym"}:
                del self.fields[name]
        self.names_only = names_only
        if "country" in self.fields:
            self.fields["country"].choices = [("", "—"), *countries]
        names = [f"name_{language}" for language in page_languages()]
        self.fields[names[0]].help_text = _("Give the name in English, in Arabic or in both.")
        self.name_fields = [self[name] for name in names]
        regions = [f"region_{language}" for language in page_languages()]
        self.region_fields = [self[name] for name in regions if name in self.fields]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("name_en", "name_ar", "acronym", "region_en", "region_ar", "iati_ref", "pcode"):
            if name in data:
                data[name] = (data[name] or "").strip()
        return data


def _name_aliases() -> dict[str, str]:
    first = f"name_{page_languages()[0]}"
    return {"name": first}


@login_required
def organisation_list(request):
    """Every organisation (visible to every signed-in user, docs/design.md §7), with links to what
    the user may do with each: edit it, manage its people."""
    access = access_for(request.user)
    kind = request.GET.get("kind")
    organisations = Organisation.objects.annotate(member_count=Count("memberships")).order_by(
        "kind", f"name_{page_languages()[0]}", "pk"
    )
    if kind in Organisation.Kind.values:
        organisations = organisations.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(organisations, ORGANISATIONS_PER_PAGE).get_page(request.GET.get("page"))
    edits_all = access.can_edit_reference_data()
    rows = [
        {
            "organisation": organisation,
            "can_edit": edits_all or access.can_manage_memberships(organisation.pk),
            "can_manage_people": access.can_manage_memberships(organisation.pk),
        }
        for organisation in page.object_list
    ]
    return render(
        request,
        "web/setup/organisation_list.html",
        {
            "page": page,
            "rows": rows,
            "kind": kind,
            "kinds": Organisation.Kind.choices,
            "can_create": edits_all,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create_view(request):
    access = access_for(request.user)
    if not access.can_edit_reference_data():
        raise PermissionDenied
    form = OrganisationForm(request.POST or None, with_kind=True, initial={"country": "LY"})
    if request.method == "POST" and form.is_valid():
        try:
            organisation = organisation_create(**form.service_data())
        except ValidationError as error:
            _add_service_error(form, error, _name_aliases())
        else:
            messages.success(request, gettext("The organisation “%(name)s” was added.") % {"name": organisation.name})
            return redirect("setup_organisation_edit", pk=organisation.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/setup/organisation_form.html", {"form": form}, status=status)


def _organisation_history(organisation: Organisation) -> list[dict]:
    """Who changed what and when, newest first: each version with the fields it changed from the
    one before (one query)."""
    versions = list(organisation.history.select_related("history_user").order_by("-history_id")[: HISTORY_ROWS + 1])
    rows = []
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        if len(rows) == HISTORY_ROWS:
            break
        changed = []
        if older is not None and newer.history_type == "~":
            changed = [
                str(OrganisationForm.base_fields[change.field].label)
                for change in newer.diff_against(older).changes
                # The columns behind the translated ones mirror them; None and "" are both empty.
                if change.field in OrganisationForm.base_fields and (change.old or change.new)
            ]
        rows.append({"version": newer, "changed": gettext(", ").join(changed)})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit_view(request, pk: int):
    """The ministry's editors and superusers edit every organisation; an organisation's own
    administrators its names and acronym (its place, codes and identifiers are reference data the
    registry matches on: the ministry's); the kind only superusers (it decides what members see)."""
    access = access_for(request.user)
    organisation = get_object_or_404(Organisation, pk=pk)
    keeps_reference_data = access.can_edit_reference_data()
    if not (keeps_reference_data or access.can_manage_memberships(organisation.pk)):
        raise PermissionDenied
    initial = {name: getattr(organisation, name) for name in OrganisationForm.base_fields}
    form = OrganisationForm(
        request.POST or None, with_kind=access.is_superuser, names_only=not keeps_reference_data, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            organisation_update(organisation=organisation, user=request.user, **form.service_data())
        except ValidationError as error:
            _add_service_error(form, error, _name_aliases())
            organisation.refresh_from_db()
        else:
            messages.success(request, gettext("The organisation “%(name)s” was saved.") % {"name": organisation.name})
            return redirect("setup_organisation_edit", pk=organisation.pk)
    return render(
        request,
        "web/setup/organisation_form.html",
        {
            "form": form,
            "organisation": organisation,
            "history": _organisation_history(organisation),
            "can_manage_people": access.can_manage_memberships(organisation.pk),
        },
        status=400 if request.method == "POST" else 200,
    )


# People ------------------------------------------------------------------------------------------


class InviteForm(forms.Form):
    email = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


def _managed_organisation(request, pk: int) -> Organisation:
    """The organisation, if the user administers it: 404 if there is none, 403 for others
    (organisations are visible to everyone; their people only to their administrators)."""
    organisation = get_object_or_404(Organisation, pk=pk)
    if not access_for(request.user).can_manage_memberships(organisation.pk):
        raise PermissionDenied
    return organisation


def _people_page(request, organisation, *, form=None, row_errors=None, status=200):
    members = list(
        Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__username", "pk")
    )
    for membership in members:
        membership.role_form = RoleForm(initial={"role": membership.role}, prefix=f"m{membership.pk}")
        membership.errors = (row_errors or {}).get(membership.pk, [])
    now = timezone.now()
    invitations = list(
        Invitation.objects.filter(organisation=organisation, accepted_at__isnull=True, cancelled_at__isnull=True)
        .select_related("invited_by")
        .order_by("-sent_at", "-pk")
    )
    for invitation in invitations:
        invitation.expires_at = invitation_expires_at(invitation)
        invitation.expired = invitation.expires_at <= now
    history = list(
        Membership.history.filter(organisation_id=organisation.pk)
        .select_related("history_user", "user")
        .order_by("-history_id")[:HISTORY_ROWS]
    )
    return render(
        request,
        "web/setup/people.html",
        {
            "organisation": organisation,
            "members": members,
            "invitations": invitations,
            "history": history,
            "form": form or InviteForm(),
            "row_errors": row_errors,
        },
        status=status,
    )


@login_required
def people_list(request, pk: int):
    return _people_page(request, _managed_organisation(request, pk))


@login_required
@require_POST
def people_invite(request, pk: int):
    """Invite by e-mail. The answer is the same whether the address has an account or not."""
    organisation = _managed_organisation(request, pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitation_create(
                organisation=organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                language=get_language(),
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            messages.success(request, gettext("An invitation was sent to %(email)s.") % {"email": invitation.email})
            return redirect("setup_people_list", pk=organisation.pk)
    return _people_page(request, organisation, form=form, status=400)


def _after_own_change(request, organisation: Organisation):
    """Back to the people page, or to the account page for someone who no longer administers it."""
    request.user._twinning_access = None  # the memberships changed: read them again
    if access_for(request.user).can_manage_memberships(organisation.pk):
        return redirect("setup_people_list", pk=organisation.pk)
    return redirect("account")


@login_required
@require_POST
def membership_role(request, pk: int, membership_pk: int):
    organisation = _managed_organisation(request, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, organisation=organisation
    )
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if not form.is_valid():
        errors = [str(message) for field_errors in form.errors.values() for message in field_errors]
        return _people_page(request, organisation, row_errors={membership.pk: errors}, status=400)
    try:
        membership_update(membership=membership, role=form.cleaned_data["role"])
    except ValidationError as error:
        errors = [message for field_messages in messages_by_field(error).values() for message in field_messages]
        return _people_page(request, organisation, row_errors={membership.pk: errors}, status=400)
    messages.success(
        request,
        gettext("%(person)s is now %(role)s.")
        % {"person": membership.user.get_username(), "role": membership.get_role_display()},
    )
    return _after_own_change(request, organisation)


@login_required
@require_POST
def membership_remove(request, pk: int, membership_pk: int):
    organisation = _managed_organisation(request, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, organisation=organisation
    )
    try:
        membership_delete(membership=membership)
    except ValidationError as error:
        errors = [message for field_messages in messages_by_field(error).values() for message in field_messages]
        return _people_page(request, organisation, row_errors={membership.pk: errors}, status=400)
    messages.success(
        request,
        gettext("%(person)s no longer belongs to %(organisation)s.")
        % {"person": membership.user.get_username(), "organisation": organisation.name},
    )
    return _after_own_change(request, organisation)


def _invitation_of(request, pk: int, invitation_pk: int) -> tuple[Organisation, Invitation]:
    organisation = _managed_organisation(request, pk)
    return organisation, get_object_or_404(Invitation, pk=invitation_pk, organisation=organisation)


@login_required
@require_POST
def invitation_resend_view(request, pk: int, invitation_pk: int):
    organisation, invitation = _invitation_of(request, pk, invitation_pk)
    try:
        invitation_resend(invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, gettext("The invitation was sent again to %(email)s.") % {"email": invitation.email})
    return redirect("setup_people_list", pk=organisation.pk)


@login_required
@require_POST
def invitation_cancel_view(request, pk: int, invitation_pk: int):
    organisation, invitation = _invitation_of(request, pk, invitation_pk)
    try:
        invitation_cancel(invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            gettext("The invitation to %(email)s was cancelled: its link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("setup_people_list", pk=organisation.pk)


# Accepting -----------------------------------------------------------------------------------------


class InvitationPasswordForm(SetPasswordForm):
    """Django's set-password form (its validators), with our labels."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Choose a password")
        self.fields["new_password2"].label = _("The same password again")


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, token: str):
    """The link of the e-mail. An account without a password chooses one (Django's validators)
    and is signed in; an account that has one accepts with a button and signs in as usual.
    Every link that does not work (forged, used, cancelled, expired, sent again since) gets the
    same page."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "web/setup/invitation_accept.html", {"invitation": None}, status=404)
    user = invitation.user
    sets_password = not user.has_usable_password()
    form = InvitationPasswordForm(user, request.POST or None) if sets_password else None
    if request.method == "POST" and (form is None or form.is_valid()):
        password = form.cleaned_data["new_password1"] if form is not None else None
        try:
            invitation_accept(invitation=invitation, password=password)
        except ValidationError as error:
            if form is None:
                return render(request, "web/setup/invitation_accept.html", {"invitation": None}, status=404)
            _add_service_error(form, error, {"password": "new_password1"})
        else:
            joined = gettext("Welcome: you joined %(organisation)s as %(role)s.") % {
                "organisation": invitation.organisation.name,
                "role": invitation.get_role_display(),
            }
            if sets_password or request.user.pk == user.pk:
                if sets_password:
                    user.refresh_from_db()
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                    if preference_of(user).pk is None:  # a new account: its e-mails in the language it joined in
                        preference_update(user=user, language=get_language())
                messages.success(request, joined)
                return redirect("home")
            messages.success(request, joined + " " + gettext("Sign in to continue."))
            return redirect("login")
    return render(
        request,
        "web/setup/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "username": user.get_username(),
            "expires_at": invitation_expires_at(invitation),
        },
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("organisations/", organisation_list, name="setup_organisation_list"),
    path("organisations/new/", organisation_create_view, name="setup_organisation_create"),
    path("organisations/<int:pk>/edit/", organisation_edit_view, name="setup_organisation_edit"),
    path("organisations/<int:pk>/people/", people_list, name="setup_people_list"),
    path("organisations/<int:pk>/people/invite/", people_invite, name="setup_people_invite"),
    path("organisations/<int:pk>/people/<int:membership_pk>/role/", membership_role, name="setup_membership_role"),
    path(
        "organisations/<int:pk>/people/<int:membership_pk>/remove/", membership_remove, name="setup_membership_remove"
    ),
    path(
        "organisations/<int:pk>/invitations/<int:invitation_pk>/resend/",
        invitation_resend_view,
        name="setup_invitation_resend",
    ),
    path(
        "organisations/<int:pk>/invitations/<int:invitation_pk>/cancel/",
        invitation_cancel_view,
        name="setup_invitation_cancel",
    ),
    path("invitations/<str:token>/", invitation_accept_view, name="setup_invitation_accept"),
]
