"""Creators' HTTP routes: thin; the work is in the service."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.auth import Public, ShopStaff, SignedIn
from liveloop.accounts.service import Principal
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ProductNotFound
from liveloop.creators import service as creators_service
from liveloop.creators.affiliates import ShowcaseEntry, percent_of
from liveloop.creators.commissions import Figures, Statement
from liveloop.creators.errors import InvalidPeriod
from liveloop.creators.models import (
    AffiliateOffer,
    Creator,
    Notification,
    ShortVideo,
    SourceKind,
    VideoComment,
)
from liveloop.creators.schemas import (
    AnchorOut,
    AnchorTap,
    AnchorTapOut,
    AssetOut,
    CartSourceOut,
    CommentCreate,
    CommentOut,
    CommissionOut,
    CounterOut,
    CreatorCreate,
    CreatorOut,
    CreatorUpdate,
    FiguresOut,
    FollowerDayOut,
    FollowOut,
    GrowthOut,
    InvitationCreate,
    InvitationOut,
    LikeOut,
    NotificationOut,
    OfferCreate,
    OfferOut,
    PriceOut,
    ProductEarningsOut,
    SourceEarningsOut,
    StatementOut,
    StatusAmountOut,
    StorefrontAdd,
    StorefrontItemOut,
    StorefrontNote,
    StorefrontOrder,
    StorefrontOut,
    TouchCreate,
    TouchOut,
    UnreadOut,
    VariantCardOut,
    VideoCreate,
    VideoOut,
    VideoUpdate,
)
from liveloop.kit.db import utcnow
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import Forbidden, field_error
from liveloop.kit.money import Money
from liveloop.kit.pagination import Page, PageParams, page_params, paginate
from liveloop.kit.validation import CountryCode

router = APIRouter(prefix="/api/v1", tags=["creators"])

FROM = Query(default=None, alias="from", description="First UTC day; default: the 1st.")
TO = Query(default=None, alias="to", description="Last UTC day (included); default: today.")


def _user(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Forbidden("This needs a signed-in person, not an API key.")
    user_id: uuid.UUID = principal.user_id
    return user_id


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or utcnow().date()
    start = start or end.replace(day=1)
    if end < start:
        raise InvalidPeriod("`to` comes before `from`.", errors=[field_error("to", "before from")])
    return start, end


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


async def _creator_out(
    container: AppContainer, session: AsyncSession, creator: Creator, viewer: Principal | None
) -> CreatorOut:
    following = None
    if viewer is not None and viewer.user_id is not None:
        following = await creators_service.is_following(session, creator.id, viewer.user_id)
    return CreatorOut(
        id=creator.id,
        handle=creator.handle,
        display_name=creator.display_name,
        bio=creator.bio,
        avatar_url=container.media_storage.url(creator.avatar_key) if creator.avatar_key else None,
        markets=creator.markets,
        categories=creator.categories,
        followers_count=creator.followers_count,
        following=following,
        created_at=creator.created_at,
    )


# -- profiles and following ----------------------------------------------------------------


@router.post("/creators", status_code=status.HTTP_201_CREATED, response_model=CreatorOut)
async def create_creator(
    body: CreatorCreate, principal: SignedIn, session: DbSession, container: AppContainer
) -> CreatorOut:
    """Become a creator: a public profile with a unique handle."""
    creator = await creators_service.create_creator(
        session,
        container.accounts,
        user_id=_user(principal),
        handle=body.handle,
        display_name=body.display_name,
        bio=body.bio,
        avatar_key=body.avatar_key,
        markets=body.markets,
        categories=body.categories,
    )
    return await _creator_out(container, session, creator, principal)


@router.get("/creators/me", response_model=CreatorOut)
async def my_profile(
    principal: SignedIn, session: DbSession, container: AppContainer
) -> CreatorOut:
    creator = await creators_service.require_creator(session, principal)
    return await _creator_out(container, session, creator, principal)


@router.patch("/creators/me", response_model=CreatorOut)
async def update_my_profile(
    body: CreatorUpdate, principal: SignedIn, session: DbSession, container: AppContainer
) -> CreatorOut:
    creator = await creators_service.require_creator(session, principal)
    await creators_service.update_creator(session, creator, body.model_dump(exclude_unset=True))
    return await _creator_out(container, session, creator, principal)


@router.get("/creators/me/followers/growth", response_model=GrowthOut)
async def my_follower_growth(
    principal: SignedIn,
    session: DbSession,
    start: date | None = FROM,
    end: date | None = TO,
) -> GrowthOut:
    """Followers day by day (UTC), and the growth between two days."""
    creator = await creators_service.require_creator(session, principal)
    first, last = _period(start, end)
    grown = await creators_service.growth(session, creator.id, first, last)
    return GrowthOut(
        start=grown.start,
        end=grown.end,
        followers_before=grown.followers_before,
        followers_at_end=grown.followers_at_end,
        gained=grown.gained,
        lost=grown.lost,
        change=grown.change,
        change_percent=grown.change_percent,
        days=[
            FollowerDayOut(day=d.day, followers=d.followers, gained=d.gained, lost=d.lost)
            for d in grown.days
        ],
    )


@router.post("/creators/touches", response_model=TouchOut)
async def record_touch(
    body: TouchCreate, viewer: Public, session: DbSession, container: AppContainer
) -> TouchOut:
    """The buyer came to a product from a live session, video or storefront item: remember it,
    so a purchase within the attribution window credits the creator behind it."""
    touch = await creators_service.record_touch(
        session,
        container.live,
        source_kind=body.source_kind,
        source_id=body.source_id,
        product_id=body.product_id,
        buyer_id=viewer.user_id if viewer else None,
        cart_token=body.cart_token,
    )
    return TouchOut(recorded=touch is not None, creator_id=touch.creator_id if touch else None)


@router.get("/creators/{handle}", response_model=CreatorOut)
async def get_creator(
    handle: str, viewer: Public, session: DbSession, container: AppContainer
) -> CreatorOut:
    creator = await creators_service.get_by_handle(session, handle)
    return await _creator_out(container, session, creator, viewer)


@router.post("/creators/{handle}/follow", response_model=FollowOut)
async def follow(handle: str, principal: SignedIn, session: DbSession) -> FollowOut:
    """Follow a creator (following again changes nothing)."""
    creator = await creators_service.get_by_handle(session, handle)
    await creators_service.follow(session, creator, _user(principal))
    return FollowOut(following=True, followers_count=creator.followers_count)


@router.delete("/creators/{handle}/follow", response_model=FollowOut)
async def unfollow(handle: str, principal: SignedIn, session: DbSession) -> FollowOut:
    creator = await creators_service.get_by_handle(session, handle)
    await creators_service.unfollow(session, creator, _user(principal))
    return FollowOut(following=False, followers_count=creator.followers_count)


# -- storefronts ---------------------------------------------------------------------------


async def _item_out(
    session: AsyncSession,
    entry: ShowcaseEntry,
    market: str | None,
    *,
    owner: bool,
    locale: str = "en_GB",
) -> StorefrontItemOut | None:
    """An item as shown; None when a market is asked for and the product is not sold there."""
    product = await catalog_service.get_product(session, entry.item.product_id)
    price = None
    if market is not None:
        try:
            found = await catalog_service.product_for_buyer(session, product.id, market)
        except ProductNotFound:
            if not owner:
                return None
        else:
            price = _price(market, found.price, locale)
    return StorefrontItemOut(
        id=entry.item.id,
        product_id=product.id,
        shop_id=entry.item.shop_id,
        title=product.title,
        note=entry.item.note,
        position=entry.item.position,
        price=price,
        offer_id=entry.offer.id,
        offer_ends_at=entry.offer.ends_at,
        active=entry.active,
        commission_percent=percent_of(entry.offer.commission_rate) if owner else None,
    )


@router.get("/creators/me/storefront", response_model=list[StorefrontItemOut])
async def my_storefront(
    principal: SignedIn,
    session: DbSession,
    market: CountryCode | None = None,
) -> list[StorefrontItemOut]:
    """Every item, also those whose offer has ended (`active` false; hidden from buyers)."""
    creator = await creators_service.require_creator(session, principal)
    entries = await creators_service.storefront(session, creator.id, active_only=False)
    return [o for e in entries if (o := await _item_out(session, e, market, owner=True))]


@router.get("/creators/{handle}/storefront", response_model=StorefrontOut)
async def get_storefront(
    handle: str,
    viewer: Public,
    session: DbSession,
    container: AppContainer,
    market: CountryCode | None = Query(default=None, description="Prices and items for it."),
) -> StorefrontOut:
    """The creator's showcase, in their order: products from offers that run now."""
    creator = await creators_service.get_by_handle(session, handle)
    items = []
    for entry in await creators_service.storefront(session, creator.id):
        out = await _item_out(
            session, entry, market, owner=False, locale=viewer.locale if viewer else "en_GB"
        )
        if out is not None:
            items.append(out)
    return StorefrontOut(
        creator=await _creator_out(container, session, creator, viewer), items=items
    )


@router.post(
    "/creators/me/storefront",
    status_code=status.HTTP_201_CREATED,
    response_model=StorefrontItemOut,
)
async def add_to_storefront(
    body: StorefrontAdd, principal: SignedIn, session: DbSession
) -> StorefrontItemOut:
    creator = await creators_service.require_creator(session, principal)
    item = await creators_service.add_to_storefront(
        session, creator, offer_id=body.offer_id, note=body.note
    )
    offer = await creators_service.get_offer(session, item.offer_id)
    out = await _item_out(session, ShowcaseEntry(item, offer), None, owner=True)
    assert out is not None
    return out


@router.patch("/creators/me/storefront/{item_id}", response_model=StorefrontItemOut)
async def update_storefront_note(
    item_id: uuid.UUID, body: StorefrontNote, principal: SignedIn, session: DbSession
) -> StorefrontItemOut:
    creator = await creators_service.require_creator(session, principal)
    item = await creators_service.update_storefront_note(session, creator, item_id, body.note)
    offer = await creators_service.get_offer(session, item.offer_id)
    out = await _item_out(session, ShowcaseEntry(item, offer), None, owner=True)
    assert out is not None
    return out


@router.put("/creators/me/storefront/order", response_model=list[StorefrontItemOut])
async def reorder_storefront(
    body: StorefrontOrder, principal: SignedIn, session: DbSession
) -> list[StorefrontItemOut]:
    creator = await creators_service.require_creator(session, principal)
    entries = await creators_service.reorder_storefront(session, creator, body.item_ids)
    return [o for e in entries if (o := await _item_out(session, e, None, owner=True))]


@router.delete("/creators/me/storefront/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_from_storefront(
    item_id: uuid.UUID, principal: SignedIn, session: DbSession
) -> Response:
    creator = await creators_service.require_creator(session, principal)
    await creators_service.remove_from_storefront(session, creator, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- affiliate offers ----------------------------------------------------------------------


def _offer_out(offer: AffiliateOffer) -> OfferOut:
    now = utcnow()
    return OfferOut(
        id=offer.id,
        shop_id=offer.shop_id,
        product_id=offer.product_id,
        commission_percent=percent_of(offer.commission_rate),
        audience=offer.audience,
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
        active=offer.starts_at <= now < offer.ends_at,
        created_at=offer.created_at,
    )


@router.get("/creators/me/offers", response_model=Page[OfferOut])
async def offers_open_to_me(
    principal: SignedIn,
    session: DbSession,
    params: PageParams = Query(default_factory=page_params),
) -> Page[OfferOut]:
    """Offers running now that you may add to your storefront, videos and live bag."""
    creator = await creators_service.require_creator(session, principal)
    rows: list[AffiliateOffer]
    rows, cursor = await paginate(
        session,
        creators_service.offers_open_to(creator.id),  # type: ignore[arg-type]
        keys=[AffiliateOffer.id],
        params=params,
        scope=f"offers-open:{creator.id}",
    )
    return Page(items=[_offer_out(o) for o in rows], next_cursor=cursor)


@router.post(
    "/shops/{shop_id}/affiliate-offers",
    status_code=status.HTTP_201_CREATED,
    response_model=OfferOut,
)
async def create_offer(
    shop_id: uuid.UUID, body: OfferCreate, principal: ShopStaff, session: DbSession
) -> OfferOut:
    """Open a listed product to creators at a commission of 1-80% of each sale's net value."""
    offer = await creators_service.create_offer(
        session,
        shop_id,
        product_id=body.product_id,
        commission_percent=body.commission_percent,
        audience=body.audience,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        actor=principal.scope_key,
    )
    for handle in body.invite_handles:
        creator = await creators_service.get_by_handle(session, handle)
        await creators_service.invite(session, shop_id, offer.id, creator)
    return _offer_out(offer)


@router.get("/shops/{shop_id}/affiliate-offers", response_model=Page[OfferOut])
async def list_offers(
    shop_id: uuid.UUID,
    _: ShopStaff,
    session: DbSession,
    params: PageParams = Query(default_factory=page_params),
) -> Page[OfferOut]:
    rows: list[AffiliateOffer]
    rows, cursor = await paginate(
        session,
        creators_service.offers_of_shop(shop_id),  # type: ignore[arg-type]
        keys=[AffiliateOffer.id],
        params=params,
        scope=f"offers:{shop_id}",
        descending=True,
    )
    return Page(items=[_offer_out(o) for o in rows], next_cursor=cursor)


@router.post(
    "/shops/{shop_id}/affiliate-offers/{offer_id}/end", status_code=status.HTTP_204_NO_CONTENT
)
async def end_offer(
    shop_id: uuid.UUID, offer_id: uuid.UUID, principal: ShopStaff, session: DbSession
) -> Response:
    """End a running offer now (withdraw one that has not started)."""
    await creators_service.end_offer(session, shop_id, offer_id, actor=principal.scope_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/shops/{shop_id}/affiliate-offers/{offer_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationOut,
)
async def invite_creator(
    shop_id: uuid.UUID,
    offer_id: uuid.UUID,
    body: InvitationCreate,
    _: ShopStaff,
    session: DbSession,
) -> InvitationOut:
    creator = await creators_service.get_by_handle(session, body.handle)
    invitation = await creators_service.invite(session, shop_id, offer_id, creator)
    return InvitationOut(
        offer_id=invitation.offer_id,
        creator_id=creator.id,
        handle=creator.handle,
        invited_at=invitation.invited_at,
    )


@router.get(
    "/shops/{shop_id}/affiliate-offers/{offer_id}/invitations",
    response_model=list[InvitationOut],
)
async def list_invitations(
    shop_id: uuid.UUID, offer_id: uuid.UUID, _: ShopStaff, session: DbSession
) -> list[InvitationOut]:
    offer = await creators_service.get_offer_of_shop(session, shop_id, offer_id)
    invitations = await creators_service.invitations_of(session, offer.id)
    creators = await creators_service.creators_by_id(session, [i.creator_id for i in invitations])
    return [
        InvitationOut(
            offer_id=i.offer_id,
            creator_id=i.creator_id,
            handle=creators[i.creator_id].handle,
            invited_at=i.invited_at,
        )
        for i in invitations
    ]


# -- earnings ------------------------------------------------------------------------------


def _figures(currency: str, f: Figures) -> dict[str, object]:
    return {
        "currency": currency,
        "orders": len(f.orders),
        "units": f.units,
        "net_sales": f.net_sales,
        "earned": f.earned,
        "reversed": f.reversed,
        "net": f.net,
    }


async def _statement_out(session: AsyncSession, found: Statement) -> StatementOut:
    creators = await creators_service.creators_by_id(
        session, list({c.creator_id for c in found.commissions})
    )
    titles: dict[uuid.UUID, str] = {}
    for product_id, _ in found.by_product:
        if product_id not in titles:
            titles[product_id] = (await catalog_service.get_product(session, product_id)).title
    return StatementOut(
        start=found.start,
        end=found.end,
        totals=[FiguresOut(**_figures(cur, f)) for cur, f in sorted(found.totals.items())],  # type: ignore[arg-type]
        by_product=[
            ProductEarningsOut(product_id=pid, title=titles[pid], **_figures(cur, f))  # type: ignore[arg-type]
            for (pid, cur), f in sorted(found.by_product.items(), key=lambda kv: -kv[1].net)
        ],
        by_source=[
            SourceEarningsOut(source_kind=kind, source_id=sid, **_figures(cur, f))  # type: ignore[arg-type]
            for (kind, sid, cur), f in sorted(found.by_source.items(), key=lambda kv: -kv[1].net)
        ],
        by_status=[
            StatusAmountOut(status=st.value, currency=cur, amount=amount)
            for (st, cur), amount in sorted(found.by_status.items())
        ],
        commissions=[
            CommissionOut(
                id=c.id,
                creator_id=c.creator_id,
                creator_handle=creators[c.creator_id].handle,
                shop_id=c.shop_id,
                product_id=c.product_id,
                order_id=c.order_id,
                order_line_id=c.order_line_id,
                source_kind=c.source_kind,
                source_id=c.source_id,
                commission_percent=percent_of(c.rate),
                currency=c.currency,
                quantity=c.quantity,
                net_amount=c.net_amount,
                amount=c.amount,
                reversed_amount=c.reversed_amount,
                status=creators_service.status_of(c).value,
                earned_at=c.earned_at,
                hold_until=c.hold_until,
            )
            for c in found.commissions
        ],
    )


@router.get("/creators/me/earnings", response_model=StatementOut)
async def my_earnings(
    principal: SignedIn,
    session: DbSession,
    start: date | None = FROM,
    end: date | None = TO,
) -> StatementOut:
    """Your commissions in a period (UTC days): totals, per product and per source."""
    creator = await creators_service.require_creator(session, principal)
    first, last = _period(start, end)
    found = await creators_service.statement(
        session,
        creator_id=creator.id,
        start=_midnight(first),
        end=_midnight(last + timedelta(days=1)),
    )
    return await _statement_out(session, found)


@router.get("/shops/{shop_id}/affiliate-commissions", response_model=StatementOut)
async def shop_commissions(
    shop_id: uuid.UUID,
    _: ShopStaff,
    session: DbSession,
    start: date | None = FROM,
    end: date | None = TO,
) -> StatementOut:
    """Commissions owed to creators on this shop's products in a period."""
    first, last = _period(start, end)
    found = await creators_service.statement(
        session,
        shop_id=shop_id,
        start=_midnight(first),
        end=_midnight(last + timedelta(days=1)),
    )
    return await _statement_out(session, found)


# -- videos --------------------------------------------------------------------------------


async def _video_out(
    container: AppContainer, session: AsyncSession, video: ShortVideo, viewer: Principal | None
) -> VideoOut:
    creator = (
        await creators_service.get_creator(session, video.creator_id) if video.creator_id else None
    )
    asset = None
    assets = container.creators.video_assets
    if assets is not None:
        info = await assets.get(session, video.video_asset_id)
        if info is not None:
            asset = AssetOut(
                status=info.status,
                poster_url=info.poster_url,
                renditions=info.renditions,
                duration_ms=info.duration_ms,
            )
    anchors = []
    for a in await creators_service.anchors_of(session, video.id):
        product = await catalog_service.get_product(session, a.product_id)
        anchors.append(
            AnchorOut(
                product_id=a.product_id, shop_id=a.shop_id, position=a.position, title=product.title
            )
        )
    liked = None
    if viewer is not None and viewer.user_id is not None:
        liked = await creators_service.has_liked(session, video.id, viewer.user_id)
    return VideoOut(
        id=video.id,
        creator_id=video.creator_id,
        creator_handle=creator.handle if creator else None,
        shop_id=video.shop_id,
        video_asset_id=video.video_asset_id,
        asset=asset,
        caption=video.caption,
        hashtags=video.hashtags,
        markets=video.markets,
        status=video.status.value,
        published_at=video.published_at,
        view_count=video.view_count,
        like_count=video.like_count,
        share_count=video.share_count,
        comment_count=video.comment_count,
        liked=liked,
        anchors=anchors,
        created_at=video.created_at,
    )


@router.post("/videos", status_code=status.HTTP_201_CREATED, response_model=VideoOut)
async def create_video(
    body: VideoCreate, principal: SignedIn, session: DbSession, container: AppContainer
) -> VideoOut:
    """A draft shoppable video: caption, hashtags, markets and product anchors."""
    user_id = _user(principal)
    if body.shop_id is not None:
        if not principal.may_act_for_shop(body.shop_id):
            raise Forbidden("You are not on this shop's staff.", code="shop_not_found", status=404)
        author = creators_service.Author(user_id=user_id, creator=None, shop_id=body.shop_id)
    else:
        creator = await creators_service.require_creator(session, principal)
        author = creators_service.Author(user_id=user_id, creator=creator, shop_id=None)
    video = await creators_service.create_video(
        session,
        author,
        video_asset_id=body.video_asset_id,
        caption=body.caption,
        hashtags=body.hashtags,
        markets=body.markets,
        product_ids=body.product_ids,
        assets=container.creators.video_assets,
    )
    return await _video_out(container, session, video, principal)


@router.get("/videos/{video_id}", response_model=VideoOut)
async def get_video(
    video_id: uuid.UUID, viewer: Public, session: DbSession, container: AppContainer
) -> VideoOut:
    video = await creators_service.visible_video(session, video_id, viewer)
    return await _video_out(container, session, video, viewer)


@router.patch("/videos/{video_id}", response_model=VideoOut)
async def update_video(
    video_id: uuid.UUID,
    body: VideoUpdate,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> VideoOut:
    video = await creators_service.editable_video(session, video_id, principal)
    await creators_service.update_video(
        session,
        video,
        caption=body.caption,
        hashtags=body.hashtags,
        markets=body.markets,
        product_ids=body.product_ids,
    )
    return await _video_out(container, session, video, principal)


@router.post("/videos/{video_id}/publish", response_model=VideoOut)
async def publish_video(
    video_id: uuid.UUID, principal: SignedIn, session: DbSession, container: AppContainer
) -> VideoOut:
    """Publish once the upload is transcoded and every anchor is still on sale."""
    video = await creators_service.editable_video(session, video_id, principal)
    await creators_service.publish_video(session, video, assets=container.creators.video_assets)
    return await _video_out(container, session, video, principal)


@router.delete("/videos/{video_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_video(video_id: uuid.UUID, principal: SignedIn, session: DbSession) -> Response:
    video = await creators_service.editable_video(session, video_id, principal)
    await creators_service.remove_video(session, video)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/creators/{handle}/videos", response_model=Page[VideoOut])
async def creator_videos(
    handle: str,
    viewer: Public,
    session: DbSession,
    container: AppContainer,
    params: PageParams = Query(default_factory=page_params),
) -> Page[VideoOut]:
    creator = await creators_service.get_by_handle(session, handle)
    rows: list[ShortVideo]
    rows, cursor = await paginate(
        session,
        creators_service.published_videos(creator_id=creator.id),  # type: ignore[arg-type]
        keys=[ShortVideo.id],
        params=params,
        scope=f"videos:{creator.id}",
        descending=True,
    )
    return Page(
        items=[await _video_out(container, session, v, viewer) for v in rows], next_cursor=cursor
    )


@router.post("/videos/{video_id}/likes", response_model=LikeOut)
async def like_video(video_id: uuid.UUID, principal: SignedIn, session: DbSession) -> LikeOut:
    """Like (once per person; liking again changes nothing)."""
    video = await creators_service.visible_video(session, video_id, principal)
    count = await creators_service.like(session, video, _user(principal))
    return LikeOut(liked=True, like_count=count)


@router.delete("/videos/{video_id}/likes", response_model=LikeOut)
async def unlike_video(video_id: uuid.UUID, principal: SignedIn, session: DbSession) -> LikeOut:
    video = await creators_service.visible_video(session, video_id, principal)
    count = await creators_service.unlike(session, video, _user(principal))
    return LikeOut(liked=False, like_count=count)


@router.post("/videos/{video_id}/views", response_model=CounterOut)
async def count_view(video_id: uuid.UUID, viewer: Public, session: DbSession) -> CounterOut:
    video = await creators_service.visible_video(session, video_id, viewer)
    return CounterOut(count=await creators_service.count(session, video, "view"))


@router.post("/videos/{video_id}/shares", response_model=CounterOut)
async def count_share(video_id: uuid.UUID, viewer: Public, session: DbSession) -> CounterOut:
    video = await creators_service.visible_video(session, video_id, viewer)
    return CounterOut(count=await creators_service.count(session, video, "share"))


@router.get("/videos/{video_id}/comments", response_model=Page[CommentOut])
async def list_comments(
    video_id: uuid.UUID,
    viewer: Public,
    session: DbSession,
    params: PageParams = Query(default_factory=page_params),
) -> Page[CommentOut]:
    video = await creators_service.visible_video(session, video_id, viewer)
    rows: list[VideoComment]
    rows, cursor = await paginate(
        session,
        creators_service.comments(video.id),  # type: ignore[arg-type]
        keys=[VideoComment.id],
        params=params,
        scope=f"comments:{video.id}",
    )
    return Page(items=[CommentOut.model_validate(c) for c in rows], next_cursor=cursor)


@router.post(
    "/videos/{video_id}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentOut
)
async def add_comment(
    video_id: uuid.UUID, body: CommentCreate, principal: SignedIn, session: DbSession
) -> CommentOut:
    video = await creators_service.visible_video(session, video_id, principal)
    comment = await creators_service.add_comment(session, video, _user(principal), body.body)
    return CommentOut.model_validate(comment)


@router.delete("/videos/{video_id}/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_comment(
    video_id: uuid.UUID, comment_id: uuid.UUID, principal: SignedIn, session: DbSession
) -> Response:
    video = await creators_service.visible_video(session, video_id, principal)
    await creators_service.remove_comment(session, video, comment_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/videos/{video_id}/anchors/{product_id}/tap", response_model=AnchorTapOut)
async def tap_anchor(
    video_id: uuid.UUID,
    product_id: uuid.UUID,
    body: AnchorTap,
    viewer: Public,
    session: DbSession,
    container: AppContainer,
) -> AnchorTapOut:
    """The buyer tapped the product link under the video: the product as sold in their market,
    and the source to send with the cart line. Records the touch that credits the creator."""
    video = await creators_service.visible_video(session, video_id, viewer)
    found = await creators_service.anchored_product(session, video, product_id, body.market)
    touch = await creators_service.record_touch(
        session,
        container.live,
        source_kind=SourceKind.video,
        source_id=video.id,
        product_id=product_id,
        buyer_id=viewer.user_id if viewer else None,
        cart_token=body.cart_token,
    )
    locale = viewer.locale if viewer else "en_GB"
    return AnchorTapOut(
        product_id=found.product.id,
        listing_id=found.listing.id,
        market=found.listing.market,
        title=found.product.title,
        shop_id=found.shop.id,
        price=_price(found.listing.market, found.price, locale),
        variants=[
            VariantCardOut(
                variant_id=v.variant.id,
                price=v.price.amount,
                currency=v.price.currency,
                in_stock=v.available > 0,
            )
            for v in found.variants
        ],
        cart_source=CartSourceOut(
            source_kind=SourceKind.video,
            source_id=video.id,
            creator_id=touch.creator_id if touch else video.creator_id,
        ),
    )


def _price(market: str, money: Money, locale: str) -> PriceOut:
    return PriceOut(
        market=market, amount=money.amount, currency=money.currency, display=money.format(locale)
    )


# -- notifications -------------------------------------------------------------------------


@router.get("/notifications", response_model=Page[NotificationOut])
async def list_notifications(
    principal: SignedIn,
    session: DbSession,
    unread: bool = Query(default=False, description="Only those not read yet."),
    params: PageParams = Query(default_factory=page_params),
) -> Page[NotificationOut]:
    """Your in-app feed, newest first."""
    rows: list[Notification]
    rows, cursor = await paginate(
        session,
        creators_service.feed(_user(principal), unread_only=unread),  # type: ignore[arg-type]
        keys=[Notification.id],
        params=params,
        scope=f"notifications:{principal.user_id}:{unread}",
        descending=True,
    )
    return Page(items=[NotificationOut.model_validate(n) for n in rows], next_cursor=cursor)


@router.get("/notifications/unread-count", response_model=UnreadOut)
async def unread_count(principal: SignedIn, session: DbSession) -> UnreadOut:
    return UnreadOut(unread=await creators_service.unread_count(session, _user(principal)))


@router.post("/notifications/read-all", response_model=UnreadOut)
async def mark_all_read(principal: SignedIn, session: DbSession) -> UnreadOut:
    await creators_service.mark_all_read(session, _user(principal))
    return UnreadOut(unread=0)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
async def mark_read(
    notification_id: uuid.UUID, principal: SignedIn, session: DbSession
) -> NotificationOut:
    notification = await creators_service.mark_read(session, _user(principal), notification_id)
    return NotificationOut.model_validate(notification)
