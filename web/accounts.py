"""The signed-in user's own pages: the account (memberships, notification settings, language),
notifications, signing in in one's own language, and changing or resetting a password (Django's
auth views, with our templates in both languages; a reset never says whether an address is
known)."""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy, translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from notifications import messages as notification_messages
from notifications import selectors as notification_selectors
from notifications.models import Notification, NotificationPreference
from notifications.services import notification_mark_read, notifications_mark_read, preference_update
from partners.models import Membership


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def translated(url: str, language: str) -> str:
    """The same page in `language` (`translate_url` resolves in the language the address is in)."""
    source = translation.get_language_from_path(urlsplit(url).path) or translation.get_language()
    with translation.override(source):
        return translate_url(url, language)


def in_language(response: HttpResponseRedirect, language: str) -> HttpResponseRedirect:
    """The redirect, to the same page in `language`, with the language cookie set so that
    unprefixed addresses open in it too."""
    response["Location"] = translated(response["Location"], language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


# Signing in ------------------------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    """Sign in, then continue in the language the user chose in their account, if they chose one."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        preference = notification_selectors.preference_of(form.get_user())
        if preference.pk is None:  # never chosen: stay in the language of the sign-in page
            return response
        return in_language(response, preference.language)


# Account -----------------------------------------------------------------------------------------


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label=_("E-mail me about notifications"),
        choices=NotificationPreference.Email.choices,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=_("Language of my pages and e-mails"), choices=settings.LANGUAGES, widget=forms.RadioSelect
    )


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    preference = notification_selectors.preference_of(request.user)
    form = PreferenceForm(request.POST or None, initial={"email": preference.email, "language": preference.language})
    if request.method == "POST" and form.is_valid():
        try:
            saved = preference_update(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            with translation.override(saved.language):
                messages.success(request, gettext("Your settings were saved."))
            return in_language(redirect("account"), saved.language)
    memberships = (
        Membership.objects.filter(user=request.user).select_related("organisation").order_by("organisation__name")
    )
    return render(
        request,
        "web/account.html",
        {"form": form, "memberships": memberships},
        status=400 if request.method == "POST" else 200,
    )


# Notifications -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request):
    if request.method == "POST":
        if request.POST.get("action") == "read-all":
            count = notifications_mark_read(user=request.user)
        else:
            ids = [pk for pk in map(_int, request.POST.getlist("notification")) if pk is not None]
            count = notifications_mark_read(user=request.user, ids=ids) if ids else 0
        messages.success(
            request,
            ngettext("%(count)d notification marked as read.", "%(count)d notifications marked as read.", count)
            % {"count": count},
        )
        return redirect("notification_list")
    notifications = notification_selectors.user_notifications(request.user)
    if request.GET.get("unread"):
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    language = translation.get_language()
    for notification in page.object_list:
        notification.shown = notification_messages.shown(notification, language)
    return render(
        request,
        "web/account_notifications.html",
        {"page": page, "unread_only": bool(request.GET.get("unread"))},
    )


@login_required
def notification_open(request, pk: int):
    """Follow a notification's link (in the page's language), marking it read."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification)
    target = translated(notification.url, translation.get_language()) if notification.url else ""
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("notification_list")
    return redirect(target)


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification)
    return redirect("notification_list")


# Passwords -----------------------------------------------------------------------------------------


class PreferredLanguageResetForm(PasswordResetForm):
    """The reset e-mail is written in the language of the account it is for."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        language = notification_selectors.preference_of(context["user"]).language
        with translation.override(language):
            context = {**context, "language": language, "direction": "rtl" if language == "ar" else "ltr"}
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email, **kwargs)


password_change = auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done"))
password_change_done = auth_views.PasswordChangeDoneView.as_view()
password_reset = auth_views.PasswordResetView.as_view(
    form_class=PreferredLanguageResetForm,
    email_template_name="registration/password_reset_email.txt",
    html_email_template_name="registration/password_reset_email.html",
    subject_template_name="registration/password_reset_subject.txt",
    success_url=reverse_lazy("password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view()
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    success_url=reverse_lazy("password_reset_complete")
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view()
