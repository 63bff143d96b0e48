"""Creators: profiles and following, notifications, shoppable short videos, the affiliate
programme (offers, storefronts), attribution and commissions.

Other contexts call this module (imported as `creators_service`), never creators' tables. The
entry points they need:

- checkout and orders: `record_touch(session, live, source_kind=, source_id=, product_id=,
  buyer_id=, cart_token=)` when a cart line comes from a live session, video or storefront;
  `attribute(session, buyer_id=, product_id=, at=, cart_token=)` per order line, giving the
  creator, source and commission rate (or None); `claim_guest_touches(session, cart_token,
  buyer_id)` when a guest's cart joins their account; `set_return_window(session, order_id,
  ends_at)` once the return window is known.
- ledger: `pay_out(session, creator_id, payout_id=, at=)`; the `creators.commission_earned` and
  `creators.commission_reversed` events carry every movement.
- anyone: `creator_of_user(session, user_id)`, `get_by_handle(session, handle)`.
"""

from __future__ import annotations

from liveloop.creators.affiliates import add_to_storefront as add_to_storefront
from liveloop.creators.affiliates import create_offer as create_offer
from liveloop.creators.affiliates import end_offer as end_offer
from liveloop.creators.affiliates import get_offer as get_offer
from liveloop.creators.affiliates import get_offer_of_shop as get_offer_of_shop
from liveloop.creators.affiliates import invitations_of as invitations_of
from liveloop.creators.affiliates import invite as invite
from liveloop.creators.affiliates import listed_markets as listed_markets
from liveloop.creators.affiliates import offer_for_creator as offer_for_creator
from liveloop.creators.affiliates import offers_of_shop as offers_of_shop
from liveloop.creators.affiliates import offers_open_to as offers_open_to
from liveloop.creators.affiliates import remove_from_storefront as remove_from_storefront
from liveloop.creators.affiliates import reorder_storefront as reorder_storefront
from liveloop.creators.affiliates import storefront as storefront
from liveloop.creators.affiliates import update_storefront_note as update_storefront_note
from liveloop.creators.attribution import Attribution as Attribution
from liveloop.creators.attribution import attribute as attribute
from liveloop.creators.attribution import claim_guest_touches as claim_guest_touches
from liveloop.creators.attribution import creator_of_source as creator_of_source
from liveloop.creators.attribution import record_touch as record_touch
from liveloop.creators.commissions import on_order_paid as on_order_paid
from liveloop.creators.commissions import on_order_refunded as on_order_refunded
from liveloop.creators.commissions import pay_out as pay_out
from liveloop.creators.commissions import set_return_window as set_return_window
from liveloop.creators.commissions import statement as statement
from liveloop.creators.commissions import status_of as status_of
from liveloop.creators.notifications import feed as feed
from liveloop.creators.notifications import mark_all_read as mark_all_read
from liveloop.creators.notifications import mark_read as mark_read
from liveloop.creators.notifications import notify as notify
from liveloop.creators.notifications import unread_count as unread_count
from liveloop.creators.profiles import create_creator as create_creator
from liveloop.creators.profiles import creator_of_user as creator_of_user
from liveloop.creators.profiles import creators_by_id as creators_by_id
from liveloop.creators.profiles import follow as follow
from liveloop.creators.profiles import follower_ids as follower_ids
from liveloop.creators.profiles import get_by_handle as get_by_handle
from liveloop.creators.profiles import get_creator as get_creator
from liveloop.creators.profiles import growth as growth
from liveloop.creators.profiles import is_following as is_following
from liveloop.creators.profiles import require_creator as require_creator
from liveloop.creators.profiles import unfollow as unfollow
from liveloop.creators.profiles import update_creator as update_creator
from liveloop.creators.videos import Author as Author
from liveloop.creators.videos import add_comment as add_comment
from liveloop.creators.videos import anchored_product as anchored_product
from liveloop.creators.videos import anchors_of as anchors_of
from liveloop.creators.videos import comments as comments
from liveloop.creators.videos import count as count
from liveloop.creators.videos import create_video as create_video
from liveloop.creators.videos import editable_video as editable_video
from liveloop.creators.videos import has_liked as has_liked
from liveloop.creators.videos import like as like
from liveloop.creators.videos import publish_video as publish_video
from liveloop.creators.videos import published_videos as published_videos
from liveloop.creators.videos import remove_comment as remove_comment
from liveloop.creators.videos import remove_video as remove_video
from liveloop.creators.videos import unlike as unlike
from liveloop.creators.videos import update_video as update_video
from liveloop.creators.videos import visible_video as visible_video
