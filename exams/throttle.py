"""Throttling of log-ins and sign-ups, on Django's cache.

With REDIS_URL the cache is Redis, shared by every web process; without it
each process counts on its own (the development default). Counters use the
cache's atomic `add` and `incr`, so concurrent requests are all counted.
"""

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

KEY_PREFIX = "throttle"


@dataclass(frozen=True)
class Limiter:
    """At most `limit` events per key within `window` seconds. The event
    that reaches the limit locks the key for `window` seconds; the lock ends
    on its own, and counting starts again from zero."""

    name: str
    limit: int
    window: int

    def _key(self, kind: str, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
        return f"{KEY_PREFIX}:{self.name}:{kind}:{digest}"

    def locked_for(self, key: str) -> int:
        """Seconds until `key` is unlocked (rounded up); 0 if it is not locked."""
        until = cache.get(self._key("lock", key))
        # The time is stored, not only the cache's expiry, to say how long is left.
        return max(0, math.ceil(until - time.time())) if until is not None else 0

    def hit(self, key: str) -> int:
        """Count one event; returns the seconds of the lockout it started, or 0."""
        counter = self._key("count", key)
        cache.add(counter, 0, self.window)
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.add(counter, 1, self.window)
            count = 1
        if count < self.limit:
            return 0
        cache.set(self._key("lock", key), time.time() + self.window, self.window)
        cache.delete(counter)
        return self.window

    def clear(self, key: str) -> None:
        cache.delete(self._key("count", key))


def login_accounts() -> Limiter:
    return Limiter("login-account", settings.LOGIN_FAILURES_PER_ACCOUNT, settings.LOGIN_LOCKOUT_SECONDS)


def login_addresses() -> Limiter:
    return Limiter("login-address", settings.LOGIN_FAILURES_PER_ADDRESS, settings.LOGIN_LOCKOUT_SECONDS)


def signup_addresses() -> Limiter:
    return Limiter("signup-address", settings.SIGNUPS_PER_ADDRESS, settings.SIGNUP_WINDOW_SECONDS)


def client_address(request: HttpRequest) -> str:
    """The address a request came from: REMOTE_ADDR, or behind
    TRUSTED_PROXIES proxies the address the outermost of them saw (each
    appends one to X-Forwarded-For; entries further left are the client's
    word). IPv6 addresses count by their /64 network, which one host holds."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXIES
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key(username: str) -> str:
    return username.strip().casefold()


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def login_lockout(request: HttpRequest, username: str) -> str:
    """Why a log-in as `username` from this request is refused now, or ""."""
    wait = login_accounts().locked_for(account_key(username))
    if wait:
        return f"Too many failed log-ins for this account. Try again in {_minutes(wait)}."
    wait = login_addresses().locked_for(client_address(request))
    if wait:
        return f"Too many failed log-ins from your network address. Try again in {_minutes(wait)}."
    return ""


def login_failed(request: HttpRequest, username: str) -> str:
    """Count a failed log-in; returns the lockout it started, if any, as a message."""
    account = login_accounts().hit(account_key(username))
    address = login_addresses().hit(client_address(request))
    if account or address:
        return login_lockout(request, username)
    return ""


def login_succeeded(username: str) -> None:
    # The address's count stays: one account of its own must not let an
    # address reset its count while it guesses the passwords of others.
    login_accounts().clear(account_key(username))


def signup_lockout(request: HttpRequest) -> str:
    """Why a sign-up from this request is refused now, or "" (then it counts)."""
    limiter = signup_addresses()
    address = client_address(request)
    wait = limiter.locked_for(address)
    if wait:
        return f"Too many sign-ups from your network address. Try again in {_minutes(wait)}."
    limiter.hit(address)
    return ""
