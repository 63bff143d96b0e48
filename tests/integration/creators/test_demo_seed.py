"""The demo seed gives Maya followers, offers from the demo shops, a storefront with notes and
two draft shoppable videos (on placeholder asset ids); running it again adds nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop import demo
from liveloop.bootstrap import Container
from liveloop.creators.models import ShortVideo, VideoStatus


async def test_demo_creator_is_seeded_once(
    container: Container, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    first = await demo.seed(container)
    assert {
        k: first.created[k]
        for k in ("creators", "follows", "affiliate offers", "storefront items", "videos (drafts)")
    } == {
        "creators": 1,
        "follows": 4,
        "affiliate offers": 4,
        "storefront items": 4,
        "videos (drafts)": 2,
    }
    second = await demo.seed(container)
    assert second.created == {}

    maya = (await client.get("/api/v1/creators/maya")).json()
    assert (maya["display_name"], maya["followers_count"]) == ("Maya Collins", 4)
    shown = (await client.get("/api/v1/creators/maya/storefront?market=GB")).json()
    assert [i["title"] for i in shown["items"]][:1] == ["Swan Lake walnut music box"]
    assert len(shown["items"]) == 4
    assert shown["items"][0]["note"] == "The one on my bedside table: plays Swan Lake."
    drafts = (await session.scalars(select(ShortVideo).order_by(ShortVideo.id))).all()
    assert [(v.status, len(v.markets)) for v in drafts] == [(VideoStatus.draft, 2)] * 2
    assert (await client.get("/api/v1/creators/maya/videos")).json()["items"] == []
