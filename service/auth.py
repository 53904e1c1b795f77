"""Bearer JWT (HS256): the token names the caller and the accounts it may trade for."""

from __future__ import annotations

import time
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
    if not authorization:
        raise AuthenticationFailed("missing Authorization header (expected: Bearer <token>)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authorization must use the Bearer scheme")
    try:
        claims = jwt.decode(
            token.strip(),
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
    return Principal(subject=str(claims["sub"]), accounts=frozenset(accounts))


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
