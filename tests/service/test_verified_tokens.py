"""The verified-token cache answers exactly as PyJWT's own checks would at the same instant:
one clock drives both the library (its `datetime.now`) and the cache, and each verdict of
the cache is compared with an uncached `authenticate` at that instant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
import jwt.api_jwt
import pytest

from service.auth import CLOCK_SKEW_S, AuthenticationFailed, VerifiedTokens, authenticate

SECRET = "a-test-secret-that-is-long-enough-0123456789"
ISSUER, AUDIENCE = "orders-local", "orders-api"
T0 = 1_900_000_000  # iat of every token below


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    shared = Clock(T0)

    class LibraryDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> LibraryDatetime:  # type: ignore[override]
            return cls.fromtimestamp(shared.now, tz=tz or UTC)

    monkeypatch.setattr(jwt.api_jwt, "datetime", LibraryDatetime)
    return shared


def token(**claims: Any) -> str:
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "accounts": ["ACC-1"],
               "iat": T0, "exp": T0 + 600, **claims}
    return "Bearer " + jwt.encode(payload, SECRET, algorithm="HS256")


def verdict(check: Any, header: str, secret: str = SECRET) -> str:
    try:
        principal = check(header, secret=secret, issuer=ISSUER, audience=AUDIENCE)
    except AuthenticationFailed as error:
        return f"401 {error}"
    return f"ok {principal.subject} {sorted(principal.accounts)}"


@pytest.mark.parametrize(
    ("claims", "instants"),
    [
        # exp: valid until CLOCK_SKEW_S after it, not at that second.
        ({}, [T0, T0 + 600, T0 + 600 + CLOCK_SKEW_S - 0.5, T0 + 600 + CLOCK_SKEW_S,
              T0 + 5000]),
        # iat ahead of the clock: valid from CLOCK_SKEW_S before it.
        ({"iat": T0 + 100}, [T0 + 100 - CLOCK_SKEW_S, T0 + 100, T0 + 99 - CLOCK_SKEW_S]),
        # nbf later than iat decides the start.
        ({"nbf": T0 + 300}, [T0 + 300 - CLOCK_SKEW_S, T0 + 200, T0 + 400]),
    ],
    ids=["exp", "iat", "nbf"],
)
def test_cached_verdicts_match_the_library_at_every_instant(
    clock: Clock, claims: dict[str, Any], instants: list[float]
) -> None:
    cache = VerifiedTokens(clock=clock)
    header = token(**claims)
    seen = []
    for instant in instants:
        clock.now = instant
        expected = verdict(authenticate, header)
        assert verdict(cache.authenticate, header) == expected, instant
        assert verdict(cache.authenticate, header) == expected, instant  # the cached answer
        seen.append(expected.split()[0])
    assert "ok" in seen and "401" in seen  # each case crosses an edge of the window


def test_a_token_once_valid_is_refused_after_expiry_even_from_the_cache(clock: Clock) -> None:
    cache = VerifiedTokens(clock=clock)
    header = token()
    assert verdict(cache.authenticate, header).startswith("ok")
    clock.now = T0 + 600 + CLOCK_SKEW_S
    assert verdict(cache.authenticate, header) == "401 token expired"


def test_another_secret_never_hits_an_entry_verified_under_the_first(clock: Clock) -> None:
    cache = VerifiedTokens(clock=clock)
    header = token()
    assert verdict(cache.authenticate, header).startswith("ok")
    assert verdict(cache.authenticate, header, secret="x" * 40).startswith("401 invalid token")


def test_failures_are_not_kept_and_the_map_stays_bounded(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decoded.append(1) or real_decode(*a, **k))
    cache = VerifiedTokens(max_entries=2, clock=clock)
    for _ in range(3):
        assert verdict(cache.authenticate, "Bearer not-a-jwt").startswith("401")
    assert len(decoded) == 3  # each refusal was checked again, none remembered
    headers = [token(sub=f"user-{n}") for n in range(3)]
    for header in headers:
        cache.authenticate(header, secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    assert len(decoded) == 6
    cache.authenticate(headers[2], secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    assert len(decoded) == 6  # the newest entry survived the clearing
    cache.authenticate(headers[0], secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    assert len(decoded) == 7  # an older one did not


def test_spellings_of_one_header_share_one_entry_and_long_tokens_are_not_kept(
    clock: Clock,
) -> None:
    cache = VerifiedTokens(clock=clock)
    header = token()
    raw = header.removeprefix("Bearer ")
    for spelling in (header, "bEaReR " + raw, "Bearer \t" + raw, "Bearer " + raw + " " * 5000):
        assert verdict(cache.authenticate, spelling) == verdict(authenticate, spelling)
    assert len(cache) == 1
    long_token = token(padding="x" * VerifiedTokens.MAX_CACHED_TOKEN_CHARS)
    assert verdict(cache.authenticate, long_token).startswith("ok")
    assert len(cache) == 1  # verified, not kept
