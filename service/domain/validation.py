"""Field rules for order input: exact decimals, ISINs, ISO 4217 currencies."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MAX_INTEGER_DIGITS = 18
MAX_FRACTION_DIGITS = 8
# Every pattern is ASCII-only and used with fullmatch: `\d` would accept any Unicode digit
# (Arabic-Indic, fullwidth...) and `$` matches before a trailing newline.
DECIMAL_PATTERN = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,8})?", re.ASCII)
ISIN_PATTERN = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]", re.ASCII)
ACCOUNT_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
CLIENT_ORDER_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)

# Active ISO 4217 codes (funds and precious-metal codes excluded: not order currencies).
ISO_4217 = frozenset(
    (
        "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP "
        "BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD "
        "FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD "
        "JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK "
        "MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR "
        "PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP "
        "SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF "
        "XCD XCG XOF XPF YER ZAR ZMW ZWG"
    ).split()
)


class FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_positive_decimal(field: str, raw: str) -> Decimal:
    """A decimal string > 0 with at most 18 integer and 8 fraction digits, no exponent."""
    if not DECIMAL_PATTERN.fullmatch(raw):
        raise FieldError(
            field,
            f"must be a decimal string with at most {MAX_INTEGER_DIGITS} integer and "
            f"{MAX_FRACTION_DIGITS} fraction digits, e.g. \"10.5\"",
        )
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(field, "is not a decimal number") from None
    if value <= 0:
        raise FieldError(field, "must be greater than zero")
    return value


def isin_check_digit_ok(isin: str) -> bool:
    """ISO 6166: letters become two digits (A=10), then the Luhn check over the digits."""
    digits = "".join(str(int(ch, 36)) for ch in isin[:-1]) + isin[-1]
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_isin(field: str, raw: str) -> str:
    if not ISIN_PATTERN.fullmatch(raw):
        raise FieldError(field, "must be a 12-character ISIN, e.g. US0378331005")
    if not isin_check_digit_ok(raw):
        raise FieldError(field, "has an invalid ISIN check digit")
    return raw


def validate_currency(field: str, raw: str) -> str:
    if raw not in ISO_4217:
        raise FieldError(field, "must be an active ISO 4217 currency code, e.g. EUR")
    return raw


def validate_pattern(field: str, raw: str, pattern: re.Pattern[str], hint: str) -> str:
    if not pattern.fullmatch(raw):
        raise FieldError(field, hint)
    return raw
