"""Creators' errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, Forbidden, NotFound, Unprocessable


class CreatorNotFound(NotFound):
    code = "creator_not_found"


class NotACreator(Forbidden):
    code = "not_a_creator"


class HandleTaken(Conflict):
    code = "creator_handle_taken"


class AlreadyCreator(Conflict):
    code = "already_creator"


class CannotFollowSelf(Unprocessable):
    code = "cannot_follow_self"


class OfferNotFound(NotFound):
    code = "affiliate_offer_not_found"


class InvalidCommissionRate(Unprocessable):
    code = "invalid_commission_rate"


class InvalidOfferPeriod(Unprocessable):
    code = "invalid_offer_period"


class ProductNotListed(Unprocessable):
    code = "product_not_listed"


class OfferOverlaps(Conflict):
    code = "affiliate_offer_overlaps"


class OfferExpired(Unprocessable):
    code = "affiliate_offer_expired"


class OfferNotOpenToYou(Forbidden):
    code = "affiliate_offer_not_open_to_you"


class StorefrontItemNotFound(NotFound):
    code = "storefront_item_not_found"


class StorefrontItemExists(Conflict):
    code = "storefront_item_exists"


class VideoNotFound(NotFound):
    code = "video_not_found"


class NotVideoAuthor(Forbidden):
    code = "not_video_author"


class AnchorNotAvailable(Unprocessable):
    code = "anchor_not_available"


class NoOfferForAnchor(Unprocessable):
    code = "anchor_without_offer"


class VideoAssetNotReady(Conflict):
    code = "video_asset_not_ready"


class VideoNotPublished(Conflict):
    code = "video_not_published"


class CommentNotFound(NotFound):
    code = "comment_not_found"


class NotificationNotFound(NotFound):
    code = "notification_not_found"


class SourceNotFound(NotFound):
    code = "attribution_source_not_found"


class InvalidPeriod(Unprocessable):
    code = "invalid_period"
