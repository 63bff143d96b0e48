"""Creators' part of `liveloop demo seed`: Maya's profile with the demo buyers as followers,
offers from the demo shops, her storefront with notes, and two shoppable videos. Idempotent.

The videos stay drafts on a named placeholder asset id: no demo video file is uploaded and
transcoded, and a video is published only once its upload is ready to play."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

# Demo data only: catalog's service has no lookup by handle, and the seed names products so.
from liveloop.catalog import repository as catalog_repo
from liveloop.catalog import service as catalog_service
from liveloop.creators import affiliates, profiles, videos
from liveloop.creators import repository as repo
from liveloop.creators.models import OfferAudience, ShortVideo
from liveloop.kit.db import utcnow

if TYPE_CHECKING:
    from liveloop.bootstrap import Container
    from liveloop.demo import SeedReport

ACTOR = "system:demo"
CREATOR_EMAIL = "maya@creators.demo"
FOLLOWERS = ["olivia@buyers.demo", "jake@buyers.demo", "lena@buyers.demo", "wei@buyers.demo"]
# (shop slug, product handle, commission percent, Maya's note)
OFFERS = [
    ("melody-box", "swan-lake-music-box", "15", "The one on my bedside table: plays Swan Lake."),
    ("melody-box", "wizard-academy-owl-figurine", "12", "Hand-painted, and heavier than it looks."),
    ("atelier-nova", "mulberry-silk-scarf", "20", "Real mulberry silk; I wear it every week."),
    ("glow-lab", "hyaluronic-serum", "18", "My winter skin saver."),
]
PLACEHOLDER = uuid.UUID("00000000-0000-4000-8000-00000000de70")
"""Namespace of the placeholder asset ids the demo videos carry until a real upload replaces
them; no media asset has these ids."""
VIDEOS = [
    (
        "unboxing",
        "Unboxing the Swan Lake music box #musicbox #unboxing",
        ["swan-lake-music-box", "wizard-academy-owl-figurine"],
    ),
    ("scarf", "Three ways to tie a silk scarf #styling", ["mulberry-silk-scarf"]),
]


async def seed_creators(session: AsyncSession, container: Container, report: SeedReport) -> None:
    user = await container.accounts.get_user_by_email(session, CREATOR_EMAIL)
    if user is None:
        return  # the users step has not run
    maya = await repo.get_creator_of_user(session, user.id)
    if maya is None:
        maya = await profiles.create_creator(
            session,
            container.accounts,
            user_id=user.id,
            handle="maya",
            display_name="Maya Collins",
            bio="London. Music boxes, silk and small joys, unboxed live every Thursday.",
            avatar_key=None,
            markets=["GB", "US", "DE", "SG"],
            categories=["home.music-boxes"],
        )
        report.add("creators")
    for email in FOLLOWERS:
        fan = await container.accounts.get_user_by_email(session, email)
        if fan is not None and await profiles.follow(session, maya, fan.id):
            report.add("follows")
    products: dict[str, uuid.UUID] = {}
    now = utcnow()
    for slug, handle, percent, note in OFFERS:
        shop = await catalog_service.get_shop_by_slug_or_id(session, slug)
        product = await catalog_repo.get_product_by_handle(session, shop.id, handle)
        if product is None or not await affiliates.listed_markets(session, product.id):
            continue  # the catalog step has not run
        products[handle] = product.id
        offer = await repo.offer_for_creator(session, product.id, maya.id, now)
        if offer is None:
            offer = await affiliates.create_offer(
                session,
                shop.id,
                product_id=product.id,
                commission_percent=Decimal(percent),
                audience=OfferAudience.open,
                starts_at=now,
                ends_at=now + timedelta(days=365),
                actor=ACTOR,
            )
            report.add("affiliate offers")
        if await repo.storefront_item_for_product(session, maya.id, product.id) is None:
            await affiliates.add_to_storefront(session, maya, offer_id=offer.id, note=note)
            report.add("storefront items")
    for key, caption, handles in VIDEOS:
        asset_id = uuid.uuid5(PLACEHOLDER, f"demo-video:{key}")
        exists = await session.scalar(
            select(ShortVideo.id).where(
                ShortVideo.creator_id == maya.id, ShortVideo.video_asset_id == asset_id
            )
        )
        if exists is not None or not all(h in products for h in handles):
            continue
        await videos.create_video(
            session,
            videos.Author(user_id=user.id, creator=maya, shop_id=None),
            video_asset_id=asset_id,
            caption=caption,
            hashtags=[],
            markets=["GB", "US"],
            product_ids=[products[h] for h in handles],
            assets=None,  # a placeholder: there is no upload to check
        )
        report.add("videos (drafts)")
