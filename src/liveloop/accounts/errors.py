"""Accounts' errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, LiveloopError, NotFound, Unauthorized, Unprocessable


class EmailTaken(Conflict):
    code = "email_taken"


class WeakPassword(Unprocessable):
    code = "weak_password"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class SessionExpired(Unauthorized):
    code = "session_expired"


class CsrfFailed(LiveloopError):
    status = 403
    code = "csrf_failed"


class UserNotFound(NotFound):
    code = "user_not_found"


class ShopNotFound(NotFound):
    code = "shop_not_found"


class AlreadyMember(Conflict):
    code = "already_member"


class LastOwner(Conflict):
    code = "last_owner"
