from __future__ import annotations

from django import forms

from portal.users.roles import Role


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(max_length=256, strip=False, widget=forms.PasswordInput)


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices)
    password = forms.CharField(max_length=256, strip=False, widget=forms.PasswordInput)


class UserChangeForm(forms.Form):
    email = forms.EmailField(required=False)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices)
    is_active = forms.BooleanField(required=False)
    password = forms.CharField(
        max_length=256,
        strip=False,
        required=False,
        widget=forms.PasswordInput,
        help_text="Leave empty to keep the current password.",
    )
