from __future__ import annotations

from django import forms


class TenantCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    schema = forms.CharField(max_length=63, help_text="Lowercase letters, digits, underscores.")
    domain = forms.CharField(max_length=253, help_text="Host name, e.g. acme.localhost")
    admin_email = forms.EmailField()
    admin_password = forms.CharField(max_length=256, strip=False, widget=forms.PasswordInput)
