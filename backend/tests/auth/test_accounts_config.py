"""Startup refuses account settings that cannot work, with a line naming the variable."""

from __future__ import annotations

import pytest

from app.core.settings import ConfigError, Settings

SSO = {
    "oidc_issuer": "https://login.example.com/realms/acme",
    "oidc_client_id": "docchat",
    "oidc_client_secret": "a-client-secret",
    "public_url": "https://docchat.example.com",
}
MAIL = {
    "smtp_url": "smtp://user:pass@mail.example.com:587",
    "mail_from": "docchat@example.com",
    "public_url": "https://docchat.example.com",
}


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "starts"),
    [
        ({**SSO, "oidc_client_secret": None}, "OIDC_CLIENT_SECRET is not set"),
        ({**SSO, "oidc_client_id": None}, "OIDC_CLIENT_ID is not set"),
        ({**SSO, "public_url": None}, "PUBLIC_URL is not set"),
        ({**SSO, "oidc_issuer": "http://login.example.com"}, "OIDC_ISSUER must be an https://"),
        ({**SSO, "oidc_scopes": "email profile"}, "OIDC_SCOPES must include openid"),
        ({"password_login_enabled": False}, "PASSWORD_LOGIN_ENABLED is false"),
        ({**MAIL, "mail_from": None}, "MAIL_FROM is not set"),
        ({**MAIL, "public_url": None}, "PUBLIC_URL is not set"),
        ({**MAIL, "smtp_url": "mail.example.com:25"}, "SMTP_URL must look like"),
        ({"public_url": "docchat.example.com"}, "PUBLIC_URL 'docchat.example.com'"),
    ],
)
def test_unworkable_account_settings_are_refused(values: dict[str, object], starts: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(**values).validate_for_startup()
    assert str(caught.value).startswith(starts)


def test_workable_account_settings_pass() -> None:
    settings = _settings(
        **{**SSO, **MAIL},
        password_login_enabled=False,
        oidc_allowed_email_domains="Example.com, @corp.example",
    )
    settings.validate_for_startup()
    assert settings.oidc_allowed_email_domains == ["example.com", "corp.example"]
    assert settings.oidc_callback_url == "https://docchat.example.com/api/v1/auth/oidc/callback"
    # A local provider over http is fine for development.
    _settings(**{**SSO, "oidc_issuer": "http://127.0.0.1:8080/"}).validate_for_startup()
