"""Live's errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, Forbidden, NotFound, Unprocessable


class SessionNotFound(NotFound):
    code = "live_session_not_found"


class NotHost(Forbidden):
    code = "not_session_host"


class IllegalTransition(Conflict):
    code = "illegal_session_transition"


class InvalidSchedule(Unprocessable):
    code = "invalid_schedule"


class NotInBag(Unprocessable):
    code = "product_not_in_bag"


class NotLive(Conflict):
    code = "session_not_live"


class InvalidFlashSale(Unprocessable):
    code = "invalid_flash_sale"


class FlashSaleNotFound(NotFound):
    code = "flash_sale_not_found"


class FlashSaleConflict(Conflict):
    code = "flash_sale_already_running"


class FlashSaleNotStarted(Conflict):
    code = "flash_sale_not_started"


class FlashSaleEnded(Conflict):
    code = "flash_sale_ended"


class SoldOut(Conflict):
    code = "sold_out"


class BuyerCapReached(Unprocessable):
    code = "per_buyer_cap_reached"


class ClaimNotFound(NotFound):
    code = "flash_sale_claim_not_found"


class ChatRefused(Forbidden):
    code = "chat_refused"


class ChatRateLimited(Conflict):
    status = 429
    code = "chat_rate_limited"


class ChatInvalid(Unprocessable):
    code = "chat_invalid"
