"""Checkout's errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, LiveloopError, NotFound, Unprocessable


class CartNotFound(NotFound):
    code = "cart_not_found"


class CartLineNotFound(NotFound):
    code = "cart_line_not_found"


class InvalidQuantity(Unprocessable):
    code = "invalid_quantity"


class QuantityAboveCap(Unprocessable):
    code = "quantity_above_cap"


class VariantNotListed(Unprocessable):
    code = "variant_not_listed"


class OutOfStock(Conflict):
    code = "out_of_stock"


class CurrencyNotOfMarket(Unprocessable):
    code = "currency_not_of_market"


class MarketMismatch(Unprocessable):
    code = "market_mismatch"


class CartEmpty(Unprocessable):
    code = "cart_empty"


class InvalidAddress(Unprocessable):
    code = "invalid_address"


class DestinationNotServed(Unprocessable):
    code = "destination_not_served"


class NoShippingOption(Unprocessable):
    code = "no_shipping_option"


class CheckoutNotFound(NotFound):
    code = "checkout_not_found"


class CheckoutExpired(LiveloopError):
    status = 410
    code = "checkout_expired"


class CheckoutStale(Conflict):
    """Price, stock or the deadline changed since the buyer saw the checkout: `changes` says
    which line and field, with the old and new values."""

    code = "checkout_stale"


class CheckoutClosed(Conflict):
    code = "checkout_closed"


class CouponNotApplicable(Unprocessable):
    code = "coupon_not_applicable"


class CouponCodeTaken(Conflict):
    code = "coupon_code_taken"


class PaymentDeclined(LiveloopError):
    status = 402
    code = "payment_declined"
