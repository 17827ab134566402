"""Chinese identifiers with check characters: resident ID numbers and credit codes.

- Resident ID number (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check
  character (0-9 or X).
- Unified social credit code (GB 32100-2015): 18 characters over the 31-character
  alphabet ``0-9ABCDEFGHJKLMNPQRTUWXY``; the last is a MOD 31 check character.
"""

from __future__ import annotations

from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise_id(value: str) -> str:
    return "".join(value.split()).upper()


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def is_valid_resident_id(value: str) -> bool:
    """18 characters, a real birth date, and the right check character."""
    value = normalise_id(value)
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    return resident_id_check_char(value[:17]) == value[17]


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(value: str) -> bool:
    value = normalise_id(value)
    if len(value) != 18 or any(c not in CREDIT_ALPHABET for c in value):
        return False
    return credit_code_check_char(value[:17]) == value[17]
