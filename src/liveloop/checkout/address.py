"""Shipping addresses checked per destination: required fields, postcode formats
(`data/address_formats.json`) and phone numbers (with `phonenumbers`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import phonenumbers

from liveloop.checkout.errors import DestinationNotServed, InvalidAddress
from liveloop.kit.errors import field_error

FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")


@dataclass(frozen=True, slots=True)
class AddressFormat:
    country: str
    required: tuple[str, ...]
    postal_code: re.Pattern[str]
    example: str
    region: re.Pattern[str] | None


@lru_cache
def formats() -> dict[str, AddressFormat]:
    text = (resources.files("liveloop.checkout") / "data" / "address_formats.json").read_text(
        "utf-8"
    )
    data: dict[str, Any] = json.loads(text)
    return {
        code: AddressFormat(
            code,
            tuple(spec["required"]),
            re.compile(spec["postal_code"]),
            spec["example"],
            re.compile(spec["region"]) if spec.get("region") else None,
        )
        for code, spec in data["countries"].items()
    }


def validate_address(raw: dict[str, Any]) -> dict[str, str]:
    """The address cleaned (trimmed, postcode upper-cased, phone in E.164), or InvalidAddress
    naming every field that is wrong."""
    country = str(raw.get("country") or "").strip().upper()
    spec = formats().get(country)
    if spec is None:
        raise DestinationNotServed(
            f"liveloop does not deliver to {country or 'an unnamed country'}.",
            errors=[field_error("address.country", "not a destination liveloop serves")],
        )
    clean: dict[str, str] = {"country": country}
    for name in FIELDS:
        if name == "country":
            continue
        value = raw.get(name)
        text = str(value).strip() if value is not None else ""
        if text:
            clean[name] = text[:200]
    errors = [
        field_error(f"address.{name}", "required", code="missing")
        for name in spec.required
        if name not in clean
    ]
    if "postal_code" in clean:
        postcode = clean["postal_code"].upper()
        clean["postal_code"] = postcode
        if not spec.postal_code.fullmatch(postcode):
            errors.append(
                field_error(
                    "address.postal_code",
                    f"not a {country} postcode (e.g. {spec.example})",
                    code="postal_code_format",
                )
            )
    if "region" in clean and spec.region is not None:
        clean["region"] = clean["region"].upper()
        if not spec.region.fullmatch(clean["region"]):
            errors.append(field_error("address.region", "not a region code", code="region_format"))
    if "phone" in clean:
        try:
            number = phonenumbers.parse(clean["phone"], country)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            errors.append(
                field_error(
                    "address.phone", f"not a valid {country} phone number", code="phone_invalid"
                )
            )
        else:
            clean["phone"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if errors:
        raise InvalidAddress(
            "The shipping address is incomplete or wrong; see `errors`.", errors=errors
        )
    return clean
