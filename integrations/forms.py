"""Settings > Integrations forms: one form per kind, built from the table of kinds.

Saving goes through the API serializer, so the dashboard and the API share every
rule (required credentials, blank secret keeps the stored one, save checks).
"""

from django import forms

from integrations import kinds
from integrations.models import Integration
from tenancy.validation import refuse_control_characters


def label_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


class IntegrationForm(forms.Form):
    name = forms.CharField(max_length=200, validators=[refuse_control_characters])
    base_url = forms.URLField(required=False, label="Base URL", assume_scheme="https")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, kind: str, instance: Integration | None = None, **kwargs):
        self.kind, self.instance = kind, instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name, "base_url": instance.base_url, "enabled": instance.enabled,
                                 **{f"option_{k}": v for k, v in (instance.options or {}).items()}}
        super().__init__(*args, **kwargs)
        masked = instance.masked_credentials() if instance else {}
        row = kinds.get(kind)
        for name in row.credential_fields if row else ():
            # Secrets are never sent back to the browser; blank keeps the stored value.
            self.fields[f"credential_{name}"] = forms.CharField(
                label=label_of(name), required=instance is None, strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=f"Stored: {masked[name]} — leave blank to keep it." if name in masked else "",
            )
        for name, label, type_ in row.option_fields if row else ():
            field = forms.BooleanField(required=False) if type_ == "bool" else forms.CharField(required=False)
            field.label = label
            self.fields[f"option_{name}"] = field

    def credential_fields(self):
        return [self[name] for name in self.fields if name.startswith("credential_")]

    def option_fields(self):
        return [self[name] for name in self.fields if name.startswith("option_")]

    def api_data(self) -> dict:
        data = self.cleaned_data
        options = dict(self.instance.options or {}) if self.instance else {}
        options.update({n[len("option_"):]: v for n, v in data.items() if n.startswith("option_")})
        payload = {"name": data["name"], "base_url": data["base_url"] or "", "enabled": data["enabled"],
                   "options": options,
                   "credentials": {n[len("credential_"):]: v for n, v in data.items() if n.startswith("credential_")}}
        if self.instance is None:
            payload["kind"] = self.kind
        return payload

    def add_api_errors(self, errors: dict):
        for field, messages in errors.items():
            target = field if field in self.fields else None
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(target, f"{label_of(field)}: {message}" if target is None else str(message))

