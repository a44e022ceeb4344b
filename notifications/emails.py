"""E-mails in the recipient's language: a plain-text body and an HTML alternative (right to
left for Arabic), from the templates under templates/notifications/."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from partners.models import Membership

from . import messages
from .models import Notification


def absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + url


def _email(*, to: str, template: str, context: dict, language: str) -> EmailMultiAlternatives:
    with translation.override(language):
        context = {
            **context,
            "language": language,
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
            "site_url": settings.SITE_URL.rstrip("/"),
        }
        subject = " ".join(render_to_string(f"notifications/{template}_subject.txt", context).split())
        text = render_to_string(f"notifications/{template}_body.txt", context)
        html = render_to_string(f"notifications/{template}_body.html", context)
    email = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    email.attach_alternative(html, "text/html")
    email.extra_headers["Content-Language"] = language
    return email


def notification_email(notification: Notification, language: str) -> EmailMultiAlternatives:
    return _email(
        to=notification.recipient.email,
        template="email",
        language=language,
        context={
            "subject": messages.render_subject(notification.kind, notification.parameters, language),
            "message": messages.shown(notification, language),
            "url": absolute(notification.url),
            "recipient": notification.recipient,
            "notification": notification,
        },
    )


def digest_email(user, notifications: list[Notification], language: str) -> EmailMultiAlternatives:
    return _email(
        to=user.email,
        template="digest",
        language=language,
        context={
            "count": len(notifications),
            "items": [{"message": messages.shown(n, language), "url": absolute(n.url)} for n in notifications],
            "recipient": user,
        },
    )


def invitation_email(invitation, *, url: str, expires_at, language: str) -> EmailMultiAlternatives:
    """The invitation to join an organisation: who asked, as what, and the link, which sets a
    password for an account that has none and otherwise only accepts."""
    inviter = invitation.invited_by
    other = "en" if language == "ar" else "ar"
    organisation = getattr(invitation.organisation, f"name_{language}", "") or getattr(
        invitation.organisation, f"name_{other}", ""
    )
    return _email(
        to=invitation.email,
        template="invitation",
        language=language,
        context={
            "inviter": (inviter.get_full_name() or inviter.get_username()) if inviter else "",
            "organisation": organisation,
            "role": Membership.Role(invitation.role).label,  # lazy: rendered in `language`
            "url": absolute(url),
            "expires_at": expires_at,
            "sets_password": not invitation.user.has_usable_password(),
            "username": invitation.user.get_username(),
        },
    )
