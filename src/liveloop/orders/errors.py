"""Orders' errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, NotFound, Unprocessable


class OrderNotFound(NotFound):
    code = "order_not_found"


class IllegalTransition(Conflict):
    code = "illegal_order_transition"


class RefundExceedsPaid(Unprocessable):
    code = "refund_exceeds_paid"


class InvalidRefund(Unprocessable):
    code = "invalid_refund"


class NotRefundable(Conflict):
    code = "order_not_refundable"


class ReturnNotFound(NotFound):
    code = "return_not_found"


class ReturnStateConflict(Conflict):
    code = "return_state_conflict"


class RequestNotFound(NotFound):
    code = "support_request_not_found"


class RequestStateConflict(Conflict):
    code = "support_request_state_conflict"


class AttachmentRefused(Unprocessable):
    code = "attachment_refused"
