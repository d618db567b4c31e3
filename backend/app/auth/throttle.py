"""Sign-in throttling that stops password guessing without letting anyone lock a person out.

* per address, every attempt (LOGIN_RATE_LIMIT_PER_IP), and per address and account
  (LOGIN_RATE_LIMIT_PER_ACCOUNT_IP): strict, a 429 once used up;
* per account, failures from all addresses (LOGIN_RATE_LIMIT_PER_ACCOUNT) never refuse by
  themselves: past it the account is *guarded*, and an address that has already failed for it
  LOGIN_RATE_LIMIT_GUARDED_ACCOUNT_IP times gets 429. Guessers (each of their addresses fails
  quickly) are cut to a few guesses per address, while the owner, from an address that has not
  been failing, signs in with the right password as usual.
"""

from __future__ import annotations

from app.core.ratelimit import RateLimitGate
from app.core.settings import Settings


class LoginThrottle:
    def __init__(self, gate: RateLimitGate, settings: Settings, *, email: str, ip: str) -> None:
        self._gate = gate
        self._settings = settings
        self._email = email
        self._ip = ip
        self._pair = f"{email}|{ip}"

    def before_attempt(self) -> None:
        """Count the attempt; 429 when this address may not try (now)."""
        settings, gate = self._settings, self._gate
        gate.hit(settings.login_rate_limit_per_ip, "login-ip", self._ip)
        gate.hit(settings.login_rate_limit_per_account_ip, "login-account-ip", self._pair)
        if gate.exhausted(settings.login_rate_limit_per_account, "login-failures", self._email):
            gate.check(
                settings.login_rate_limit_guarded_account_ip, "login-failures-ip", self._pair
            )

    def failed(self) -> None:
        settings, gate = self._settings, self._gate
        gate.record(settings.login_rate_limit_per_account, "login-failures", self._email)
        gate.record(settings.login_rate_limit_guarded_account_ip, "login-failures-ip", self._pair)
