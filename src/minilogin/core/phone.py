"""Phone numbers in E.164, the one form the account system keys users on."""

from __future__ import annotations

import phonenumbers

from minilogin.core.errors import InvalidRequest


def to_e164(number: str, default_region: str = "CN") -> str:
    """Parse what a person or WeChat wrote and return E.164 (``+8613800138000``)."""
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRequest("invalid_phone", str(exc)) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidRequest("invalid_phone", "not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def from_wechat(country_code: str, pure_phone_number: str) -> str:
    """WeChat's ``getuserphonenumber`` gives the country code and the national number apart."""
    return to_e164(f"+{country_code.lstrip('+')}{pure_phone_number}")


def masked(e164: str) -> str:
    """Enough of a number for its owner to recognise it, not for a stranger to learn it:
    ``+86 138****8000``."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "****"
    national = str(parsed.national_number)
    keep = 3 if len(national) >= 10 else 2
    hidden = national[:keep] + "*" * max(len(national) - keep - 4, 0) + national[-4:]
    return f"+{parsed.country_code} {hidden}"
