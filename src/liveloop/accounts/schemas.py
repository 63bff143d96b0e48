"""Accounts' request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from liveloop.accounts.models import ShopRole
from liveloop.kit.validation import CountryCode, LocaleTag, TimeZone


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailStr
    password: str = Field(min_length=1, max_length=128)
    display_name: str = Field(min_length=1, max_length=100)
    country: CountryCode
    time_zone: TimeZone = "UTC"
    locale: LocaleTag = "en_GB"


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    country: CountryCode | None = None
    time_zone: TimeZone | None = None
    locale: LocaleTag | None = None


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    shop_id: uuid.UUID
    user_id: uuid.UUID
    role: ShopRole
    created_at: datetime


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    country: str
    time_zone: str
    locale: str
    is_platform_admin: bool
    is_creator: bool
    created_at: datetime


class MeOut(UserOut):
    roles: list[str]
    memberships: list[MembershipOut]


class SessionOut(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; also set as a cookie.")
    expires_at: datetime
    csrf_token: str = Field(description="Send as `X-CSRF-Token` on cookie-authenticated writes.")
    user: UserOut


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: ShopRole = ShopRole.staff


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    shop_id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="Shown once; store it now.")
