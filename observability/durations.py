"""Prometheus durations: parse, format, and scale every duration inside an expression."""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS_S = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
DURATION = r"(?:\d+(?:ms|y|w|d|h|m|s))+"
_RANGE = re.compile(rf"\[({DURATION})(?::({DURATION})?)?\]")
_OFFSET = re.compile(rf"\boffset\s+({DURATION})")
_AGE = re.compile(rf"\$age\(({DURATION})\)")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as `5m`, `1h30m` or `500ms`."""
    if not re.fullmatch(DURATION, text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * UNITS_S[unit] for n, unit in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """The shortest Prometheus spelling of whole milliseconds (`72m` becomes `1h12m`)."""
    millis = round(seconds * 1000)
    if millis <= 0:
        return "0s"
    parts = []
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = round(UNITS_S[unit] * 1000)
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


@dataclass(frozen=True)
class Scale:
    """Divides durations by `factor`; range windows never shrink below `min_range_s`
    (a rate needs two samples) and `for:` never below `min_for_s`."""

    factor: float = 1.0
    min_range_s: float = 0.0
    min_for_s: float = 0.0

    def range(self, text: str) -> str:
        if self.factor == 1:
            return text
        return format_duration(max(parse_duration(text) / self.factor, self.min_range_s))

    def hold(self, text: str) -> str:
        if self.factor == 1:
            return text
        return format_duration(max(parse_duration(text) / self.factor, self.min_for_s))

    def offset(self, text: str) -> str:
        return text if self.factor == 1 else format_duration(parse_duration(text) / self.factor)

    def seconds(self, text: str) -> str:
        value = parse_duration(text) / self.factor
        return f"{value:g}"

    def expr(self, text: str) -> str:
        """Scale the range selectors, subquery ranges, offsets and `$age()` thresholds."""

        def scale_range(match: re.Match[str]) -> str:
            window, step = match.group(1), match.group(2)
            if ":" not in match.group(0):
                return f"[{self.range(window)}]"
            return f"[{self.range(window)}:{self.offset(step) if step else ''}]"

        text = _RANGE.sub(scale_range, text)
        text = _OFFSET.sub(lambda m: f"offset {self.offset(m.group(1))}", text)
        return _AGE.sub(lambda m: self.seconds(m.group(1)), text)
