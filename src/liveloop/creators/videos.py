"""Shoppable short videos: caption, hashtags, markets and product anchors, publishing once the
media asset is ready, likes (once per person), views, shares and comments."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from liveloop.accounts.service import Principal
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ProductNotFound
from liveloop.creators import events
from liveloop.creators import repository as repo
from liveloop.creators.affiliates import offer_for_creator
from liveloop.creators.errors import (
    AnchorNotAvailable,
    CommentNotFound,
    NoOfferForAnchor,
    NotVideoAuthor,
    VideoAssetNotReady,
    VideoNotFound,
    VideoNotPublished,
)
from liveloop.creators.models import (
    Creator,
    ShortVideo,
    VideoAnchor,
    VideoComment,
    VideoStatus,
)
from liveloop.creators.ports import VideoAssetInfo, VideoAssets
from liveloop.kit import outbox
from liveloop.kit.db import utcnow
from liveloop.kit.errors import NotFound, Unprocessable, field_error
from liveloop.moderation import service as moderation_service

HASHTAG = re.compile(r"#(\w{1,50})")
MAX_HASHTAGS = 30
COUNTERS = {"view": "view_count", "share": "share_count"}


def normalise_hashtags(caption: str, hashtags: Sequence[str]) -> list[str]:
    """The tags given plus those written in the caption: lower case, without `#`, once each."""
    found: list[str] = []
    for i, raw in enumerate(hashtags):
        tag = raw.strip().lstrip("#").lower()
        if not re.fullmatch(r"\w{1,50}", tag):
            raise Unprocessable(
                "A hashtag is 1 to 50 letters, digits or underscores.",
                errors=[field_error(f"hashtags.{i}", repr(raw), code="invalid_hashtag")],
            )
        found.append(tag)
    found += [m.lower() for m in HASHTAG.findall(caption)]
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_HASHTAGS:
        raise Unprocessable(
            f"At most {MAX_HASHTAGS} hashtags.",
            errors=[field_error("hashtags", "too many", code="too_many")],
        )
    return unique


@dataclass(frozen=True, slots=True)
class Author:
    """Who publishes: a creator (anchors need offers open to them) or a shop (its products)."""

    user_id: uuid.UUID
    creator: Creator | None
    shop_id: uuid.UUID | None


async def _anchors(
    session: AsyncSession,
    author: Author,
    product_ids: Sequence[uuid.UUID],
    markets: Sequence[str],
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]]:
    """(product, shop, offer) per anchor, after checking each is on sale in every market of the
    video and, for a creator, under an offer open to them now."""
    problems: list[dict[str, str]] = []
    anchors = []
    for i, product_id in enumerate(dict.fromkeys(product_ids)):
        field = f"product_ids.{i}"
        try:
            product = await catalog_service.get_product(session, product_id)
        except ProductNotFound:
            problems.append(field_error(field, "no such product", code="unknown_product"))
            continue
        if author.shop_id is not None and product.shop_id != author.shop_id:
            problems.append(field_error(field, "not this shop's product", code="foreign_shop"))
            continue
        missing = []
        for market in markets:
            try:
                await catalog_service.product_for_buyer(session, product_id, market)
            except ProductNotFound:
                missing.append(market)
        if missing:
            problems.append(
                field_error(
                    field,
                    f"{product.title!r} is not on sale in {', '.join(missing)}",
                    code="not_on_sale_in_market",
                )
            )
            continue
        offer_id = None
        if author.creator is not None:
            offer = await offer_for_creator(session, product_id, author.creator.id, utcnow())
            if offer is None:
                raise NoOfferForAnchor(
                    f"{product.title!r} has no affiliate offer open to you; a creator's video "
                    "anchors products from shops' offers.",
                    errors=[field_error(field, "no offer open to you", code="no_offer")],
                )
            offer_id = offer.id
        anchors.append((product_id, product.shop_id, offer_id))
    if problems:
        raise AnchorNotAvailable(
            "Every anchored product must be on sale in each of the video's markets; see `errors`.",
            errors=problems,
        )
    return anchors


async def _set_anchors(
    session: AsyncSession,
    video: ShortVideo,
    anchors: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]],
) -> None:
    for old in await repo.anchors_of(session, video.id):
        await session.delete(old)
    await session.flush()
    for position, (product_id, shop_id, offer_id) in enumerate(anchors):
        session.add(
            VideoAnchor(
                video_id=video.id,
                product_id=product_id,
                shop_id=shop_id,
                offer_id=offer_id,
                position=position,
            )
        )
    await session.flush()


async def create_video(
    session: AsyncSession,
    author: Author,
    *,
    video_asset_id: uuid.UUID,
    caption: str,
    hashtags: Sequence[str],
    markets: Sequence[str],
    product_ids: Sequence[uuid.UUID],
    assets: VideoAssets | None,
) -> ShortVideo:
    """A draft video; publishing is a separate step, once the upload is transcoded."""
    moderation_service.ensure_allowed("caption", caption)
    tags = normalise_hashtags(caption, hashtags)
    for i, tag in enumerate(tags):
        moderation_service.ensure_allowed(f"hashtags.{i}", tag)
    if assets is not None:
        await _owned_asset(session, assets, video_asset_id, author.user_id)
    markets = sorted(set(markets))
    anchors = await _anchors(session, author, product_ids, markets)
    video = ShortVideo(
        author_user_id=author.user_id,
        creator_id=author.creator.id if author.creator else None,
        shop_id=author.shop_id,
        video_asset_id=video_asset_id,
        caption=caption,
        hashtags=tags,
        markets=markets,
        status=VideoStatus.draft,
    )
    session.add(video)
    await session.flush()
    await _set_anchors(session, video, anchors)
    return video


async def _owned_asset(
    session: AsyncSession, assets: VideoAssets, asset_id: uuid.UUID, user_id: uuid.UUID
) -> VideoAssetInfo:
    asset = await assets.get(session, asset_id)
    if asset is None or asset.owner_id != user_id:
        raise NotFound(
            "No such uploaded video of yours.",
            code="video_asset_not_found",
            errors=[field_error("video_asset_id", "unknown", code="unknown")],
        )
    return asset


async def get_video(session: AsyncSession, video_id: uuid.UUID) -> ShortVideo:
    video = await repo.get_video(session, video_id)
    if video is None:
        raise VideoNotFound("No such video.")
    return video


def may_edit(video: ShortVideo, principal: Principal | None) -> bool:
    if principal is None:
        return False
    if principal.is_platform_admin or principal.user_id == video.author_user_id:
        return True
    return video.shop_id is not None and principal.may_act_for_shop(video.shop_id)


async def visible_video(
    session: AsyncSession, video_id: uuid.UUID, viewer: Principal | None
) -> ShortVideo:
    """A published video, or a draft to its author; anyone else is told it does not exist."""
    video = await get_video(session, video_id)
    if video.status is not VideoStatus.published and not may_edit(video, viewer):
        raise VideoNotFound("No such video.")
    return video


async def editable_video(
    session: AsyncSession, video_id: uuid.UUID, principal: Principal
) -> ShortVideo:
    video = await visible_video(session, video_id, principal)
    if not may_edit(video, principal):
        raise NotVideoAuthor("Only the video's author may change it.")
    return video


async def author_of(session: AsyncSession, video: ShortVideo) -> Author:
    creator = await repo.get_creator(session, video.creator_id) if video.creator_id else None
    return Author(user_id=video.author_user_id, creator=creator, shop_id=video.shop_id)


async def update_video(
    session: AsyncSession,
    video: ShortVideo,
    *,
    caption: str | None,
    hashtags: Sequence[str] | None,
    markets: Sequence[str] | None,
    product_ids: Sequence[uuid.UUID] | None,
) -> ShortVideo:
    if caption is not None:
        moderation_service.ensure_allowed("caption", caption)
    new_caption = video.caption if caption is None else caption
    tags = normalise_hashtags(
        new_caption, hashtags if hashtags is not None else [] if caption else video.hashtags
    )
    for i, tag in enumerate(tags):
        moderation_service.ensure_allowed(f"hashtags.{i}", tag)
    new_markets = sorted(set(markets)) if markets is not None else video.markets
    if markets is not None or product_ids is not None:
        current = [a.product_id for a in await repo.anchors_of(session, video.id)]
        anchors = await _anchors(
            session,
            await author_of(session, video),
            product_ids if product_ids is not None else current,
            new_markets,
        )
        await _set_anchors(session, video, anchors)
    video.caption = new_caption
    video.hashtags = tags
    video.markets = new_markets
    await session.flush()
    return video


async def publish_video(
    session: AsyncSession, video: ShortVideo, *, assets: VideoAssets | None
) -> ShortVideo:
    """Publish once the upload is ready to play; anchors are checked again (a listing may have
    been paused or an offer ended since the draft)."""
    if video.status is VideoStatus.published:
        return video
    if assets is None:
        raise VideoAssetNotReady(
            "Videos cannot be published until the media service is connected to check that "
            "the upload is ready to play."
        )
    asset = await _owned_asset(session, assets, video.video_asset_id, video.author_user_id)
    if not asset.ready:
        raise VideoAssetNotReady(
            f"The upload is {asset.status}; publish once it is ready to play.",
            asset_status=asset.status,
        )
    current = [a.product_id for a in await repo.anchors_of(session, video.id)]
    await _set_anchors(
        session,
        video,
        await _anchors(session, await author_of(session, video), current, video.markets),
    )
    video.status = VideoStatus.published
    video.published_at = utcnow()
    await session.flush()
    outbox.record(
        session,
        events.VIDEO_PUBLISHED,
        aggregate_type="video",
        aggregate_id=video.id,
        payload={
            "video_id": video.id,
            "creator_id": video.creator_id,
            "shop_id": video.shop_id,
            "markets": video.markets,
            "product_ids": current,
        },
        actor_id=video.author_user_id,
    )
    return video


async def remove_video(session: AsyncSession, video: ShortVideo) -> None:
    video.status = VideoStatus.removed
    await session.flush()


async def anchors_of(session: AsyncSession, video_id: uuid.UUID) -> list[VideoAnchor]:
    return await repo.anchors_of(session, video_id)


def published_videos(
    *, creator_id: uuid.UUID | None = None, shop_id: uuid.UUID | None = None
) -> Select[ShortVideo]:
    return repo.published_videos_stmt(creator_id=creator_id, shop_id=shop_id, market=None)


def _published(video: ShortVideo) -> None:
    if video.status is not VideoStatus.published:
        raise VideoNotPublished("The video is not published.")


async def like(session: AsyncSession, video: ShortVideo, user_id: uuid.UUID) -> int:
    """Like once per person; the like count afterwards."""
    _published(video)
    if await repo.insert_like(session, video.id, user_id):
        return await _bump(session, video, "like_count", +1)
    return video.like_count


async def unlike(session: AsyncSession, video: ShortVideo, user_id: uuid.UUID) -> int:
    if await repo.delete_like(session, video.id, user_id):
        return await _bump(session, video, "like_count", -1)
    return video.like_count


async def has_liked(session: AsyncSession, video_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await repo.has_liked(session, video_id, user_id)


async def count(session: AsyncSession, video: ShortVideo, what: str) -> int:
    """Count a view or a share."""
    _published(video)
    return await _bump(session, video, COUNTERS[what], +1)


async def _bump(session: AsyncSession, video: ShortVideo, counter: str, delta: int) -> int:
    value = await repo.add_to_counter(session, video.id, counter, delta)
    set_committed_value(video, counter, value)
    return value


async def add_comment(
    session: AsyncSession, video: ShortVideo, author_id: uuid.UUID, body: str
) -> VideoComment:
    _published(video)
    moderation_service.ensure_allowed("body", body)
    comment = VideoComment(video_id=video.id, author_id=author_id, body=body)
    session.add(comment)
    await session.flush()
    await _bump(session, video, "comment_count", +1)
    return comment


def comments(video_id: uuid.UUID) -> Select[VideoComment]:
    return repo.comments_stmt(video_id)


async def remove_comment(
    session: AsyncSession, video: ShortVideo, comment_id: uuid.UUID, principal: Principal
) -> None:
    """The comment's writer or the video's author (or its shop's staff) takes it down."""
    comment = await repo.get_comment(session, video.id, comment_id)
    if comment is None or comment.removed_at is not None:
        raise CommentNotFound("No such comment.")
    if comment.author_id != principal.user_id and not may_edit(video, principal):
        raise NotVideoAuthor("Only the comment's writer or the video's author may remove it.")
    comment.removed_at = utcnow()
    await session.flush()
    await _bump(session, video, "comment_count", -1)


async def anchored_product(
    session: AsyncSession, video: ShortVideo, product_id: uuid.UUID, market: str
) -> catalog_service.BuyerListing:
    """The anchored product as a buyer in `market` sees it (tapping the anchor)."""
    _published(video)
    if await repo.get_anchor(session, video.id, product_id) is None:
        raise NotFound("This product is not anchored to the video.", code="anchor_not_found")
    return await catalog_service.product_for_buyer(session, product_id, market)
