"""Event types that payments raises (delivered through the outbox).

Each payload is `{payment_id, reference, amount, currency}`: `amount` is what was charged,
authorised or refunded, in minor units. Checkout and orders react to these, e.g. turning a
checkout whose reference is `payment_succeeded` into an order.
"""

PAYMENT_AUTHORIZED = "payments.payment_authorized"
PAYMENT_SUCCEEDED = "payments.payment_succeeded"
PAYMENT_FAILED = "payments.payment_failed"
"""Also carries `decline_code`."""
PAYMENT_CANCELED = "payments.payment_canceled"
REFUND_SUCCEEDED = "payments.refund_succeeded"
"""Also carries `refund_id` (the provider's) and `refunded_total`."""
