"""Catalog's errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, LiveloopError, NotFound, Unprocessable


class ShopNotFound(NotFound):
    code = "shop_not_found"


class SlugTaken(Conflict):
    code = "slug_taken"


class ProductNotFound(NotFound):
    code = "product_not_found"


class VariantNotFound(NotFound):
    code = "variant_not_found"


class HandleTaken(Conflict):
    code = "handle_taken"


class SkuTaken(Conflict):
    code = "sku_taken"


class ListingNotFound(NotFound):
    code = "listing_not_found"


class ListingExists(Conflict):
    code = "listing_exists"


class ListingStateConflict(Conflict):
    code = "listing_state_conflict"


class MarketNotServed(Unprocessable):
    code = "market_not_served"


class ExchangeRateMissing(Unprocessable):
    code = "fx_rate_missing"


class WarehouseNotFound(NotFound):
    code = "warehouse_not_found"


class WarehouseCodeTaken(Conflict):
    code = "warehouse_code_taken"


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class ReservationNotFound(NotFound):
    code = "reservation_not_found"


class ReservationNotActive(Conflict):
    code = "reservation_not_active"


class RuleNotFound(NotFound):
    code = "rule_not_found"


class ImportFileRefused(LiveloopError):
    """The file as a whole cannot be read (encoding, header): no row was looked at."""

    status = 422
    code = "import_file_refused"


class ImportRowsRefused(Unprocessable):
    """`--atomic` import with bad rows: nothing was written."""

    code = "import_rows_refused"
