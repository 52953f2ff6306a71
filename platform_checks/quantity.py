"""Kubernetes resource quantities parsed exactly as k8s.io/apimachinery's resource.ParseQuantity does."""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY_SI = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SI = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
# Same grammar as resource.parseQuantityString: sign, digits, optional fraction, then a suffix made of
# the letters below optionally followed by a signed exponent; the suffix must then be a known one.
_QUANTITY_RE = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*(?:[+-]?[0-9]+)?)$")
_NANO = Fraction(1, 10**9)


def parse_quantity(text: str) -> Fraction:
    """Exact value of a Kubernetes quantity string; ValueError where ParseQuantity returns an error."""
    match = _QUANTITY_RE.match(text)
    if not text or match is None:
        raise ValueError(f"quantities must match the regular expression: {text!r}")
    sign, whole, frac, suffix = match.groups()
    number = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    if suffix in _BINARY_SI:
        multiplier = Fraction(_BINARY_SI[suffix])
    elif suffix in _DECIMAL_SI:
        multiplier = _DECIMAL_SI[suffix]
    elif re.fullmatch(r"[eE][+-]?[0-9]+", suffix):
        multiplier = Fraction(10) ** int(suffix[1:])
    else:
        raise ValueError(f"unable to parse quantity's suffix: {text!r}")
    value = number * multiplier
    # ParseQuantity keeps at most nano precision and rounds away from zero (inf.RoundUp).
    if (value / _NANO).denominator != 1:
        nanos = -(-value.numerator * 10**9 // value.denominator)
        value = Fraction(nanos, 10**9)
    return -value if sign == "-" else value
