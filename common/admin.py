"""The admin writes through the services, so its forms enforce the same rules as the API.

A service's rules are checked while the form validates: the service runs once inside a
transaction that is always rolled back (its on-commit work is discarded with it), and any
ValidationError it raises becomes a form error next to the field it names. When the form is
valid, `save_model` runs the service for real.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from modeltranslation.admin import TranslationAdmin


class _DryRunDone(Exception):
    pass


class ServiceForm(forms.ModelForm):
    """Set by ServiceAdmin.get_form: the callable that would write this form's data."""

    service_call: Callable[["ServiceForm"], Any] | None = None

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors or self.service_call is None:
            return
        try:
            with transaction.atomic():
                type(self).service_call(self)
                raise _DryRunDone
        except _DryRunDone:
            pass
        except ValidationError as error:
            self._add_service_errors(error)

    def _add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field_name, field_messages in error.error_dict.items():
            target = field_name if field_name in self.fields else None
            if field_name == NON_FIELD_ERRORS:
                target = None
            self.add_error(target, ValidationError(field_messages))


class ServiceAdmin(admin.ModelAdmin):
    """Subclasses implement `service_create(request, data)` and `service_update(request, obj, data)`,
    both returning the saved object; `data` is the form's cleaned data. Models whose deletion
    carries a rule (a recompute, a signal) override `service_delete`; the delete page and the
    bulk "delete selected" action both go through it."""

    form = ServiceForm

    def service_create(self, request, data: dict[str, Any]):
        raise NotImplementedError

    def service_update(self, request, obj, data: dict[str, Any]):
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        obj.delete()

    def delete_refusal(self, obj) -> ValidationError | None:
        """Why the delete service would refuse `obj` now (None: it would not). Such an object
        offers no delete (403), rather than a confirmation page whose answer is an error."""
        return None

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.delete_refusal(obj) is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            try:
                self.service_delete(request, obj)
            except ValidationError as error:  # approved meanwhile, say: kept, and the user is told why
                self.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)

    def changed_data(self, form: forms.ModelForm) -> dict[str, Any]:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_self = self

        def service_call(form):
            if form.instance.pk is None:
                return admin_self.service_create(request, dict(form.cleaned_data))
            fresh = type(form.instance).objects.get(pk=form.instance.pk)
            return admin_self.service_update(request, fresh, admin_self.changed_data(form))

        return type(form_class.__name__, (form_class,), {"service_call": service_call})

    def save_model(self, request, obj, form, change):
        if change:
            fresh = type(obj).objects.get(pk=obj.pk)
            saved = self.service_update(request, fresh, self.changed_data(form))
        else:
            saved = self.service_create(request, dict(form.cleaned_data))
        obj.pk = saved.pk
        form.instance = saved

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields were written by the service; inlines (if any) still save here.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class TranslatedServiceAdmin(ServiceAdmin, TranslationAdmin):
    """Service-backed admin for models with English and Arabic fields."""


def only(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}
