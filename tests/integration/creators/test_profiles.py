"""Creator profiles, following, and followers counted per day for growth between dates."""

from __future__ import annotations

from datetime import timedelta

import httpx

from liveloop.kit.clock import clock
from tests.conftest import MakeUser, assert_problem
from tests.integration.creators.conftest import make_creator


async def test_a_user_becomes_a_creator(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user()
    created = await client.post(
        "/api/v1/creators",
        json={
            "handle": "Maya_Makes",
            "display_name": "Maya",
            "bio": "Music boxes, unboxed live.",
            "markets": ["GB", "us"],
            "categories": ["home.music-boxes"],
        },
        headers=user.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["handle"], body["display_name"], body["markets"]) == (
        "maya_makes",
        "Maya",
        ["GB", "US"],
    )
    assert (body["followers_count"], body["following"]) == (0, False)
    me = (await client.get("/api/v1/me", headers=user.headers)).json()
    assert me["roles"] == ["buyer", "creator"]
    public = (await client.get("/api/v1/creators/maya_makes")).json()
    assert (public["bio"], public["following"]) == ("Music boxes, unboxed live.", None)

    again = await client.post(
        "/api/v1/creators", json={"handle": "other_name"}, headers=user.headers
    )
    assert_problem(again, 409, "already_creator")
    taken = await client.post(
        "/api/v1/creators", json={"handle": "MAYA_MAKES"}, headers=(await make_user()).headers
    )
    assert assert_problem(taken, 409, "creator_handle_taken")["errors"][0]["field"] == "handle"
    reserved = await client.post(
        "/api/v1/creators", json={"handle": "admin"}, headers=(await make_user()).headers
    )
    assert_problem(reserved, 409, "creator_handle_taken")
    bad = await client.post(
        "/api/v1/creators", json={"handle": "a b"}, headers=(await make_user()).headers
    )
    assert assert_problem(bad, 422, "invalid")["errors"][0]["code"] == "invalid_handle"


async def test_every_profile_text_passes_the_link_ban(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user()
    bio = await client.post(
        "/api/v1/creators",
        json={"handle": "linky", "bio": "Cheaper at amazon.com/dp/B0123 !"},
        headers=user.headers,
    )
    problem = assert_problem(bio, 422, "external_link_blocked")
    assert problem["errors"][0]["field"] == "bio"
    assert problem["domains"] == ["amazon.com"]
    name = await client.post(
        "/api/v1/creators",
        json={"handle": "linky", "display_name": "shop at bit.ly/deal"},
        headers=user.headers,
    )
    assert assert_problem(name, 422, "external_link_blocked")["errors"][0]["field"] == (
        "display_name"
    )
    created = await client.post("/api/v1/creators", json={"handle": "linky"}, headers=user.headers)
    assert created.status_code == 201
    patch = await client.patch(
        "/api/v1/creators/me", json={"bio": "see e b a y . c o m"}, headers=user.headers
    )
    assert_problem(patch, 422, "external_link_blocked")
    assert (await client.get("/api/v1/creators/linky")).json()["bio"] == ""


async def test_follow_unfollow_and_daily_growth(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    creator = await make_creator(client, make_user, "growth")
    fans = [await make_user() for _ in range(4)]
    first_day = clock.now().date()

    for fan in fans[:3]:
        response = await client.post("/api/v1/creators/growth/follow", headers=fan.headers)
        assert response.json() == {"following": True, "followers_count": fans.index(fan) + 1}
    twice = await client.post("/api/v1/creators/growth/follow", headers=fans[0].headers)
    assert twice.json() == {"following": True, "followers_count": 3}
    self_follow = await client.post("/api/v1/creators/growth/follow", headers=creator.headers)
    assert_problem(self_follow, 422, "cannot_follow_self")

    with clock.travel(timedelta(days=1)):
        gone = await client.delete("/api/v1/creators/growth/follow", headers=fans[1].headers)
        assert gone.json() == {"following": False, "followers_count": 2}
        again = await client.delete("/api/v1/creators/growth/follow", headers=fans[1].headers)
        assert again.json() == {"following": False, "followers_count": 2}
        await client.post("/api/v1/creators/growth/follow", headers=fans[3].headers)
    with clock.travel(timedelta(days=3)):
        await client.post("/api/v1/creators/growth/follow", headers=fans[1].headers)
        growth = await client.get(
            "/api/v1/creators/me/followers/growth",
            params={
                "from": (first_day + timedelta(days=1)).isoformat(),
                "to": (first_day + timedelta(days=3)).isoformat(),
            },
            headers=creator.headers,
        )
    body = growth.json()
    assert (body["followers_before"], body["followers_at_end"]) == (3, 4)
    assert (body["gained"], body["lost"], body["change"]) == (2, 1, 1)
    assert body["change_percent"] == "33.3"
    assert [(d["followers"], d["gained"], d["lost"]) for d in body["days"]] == [
        (3, 1, 1),
        (3, 0, 0),
        (4, 1, 0),
    ]
    seen = (await client.get("/api/v1/creators/growth", headers=fans[3].headers)).json()
    assert (seen["followers_count"], seen["following"]) == (4, True)
    stranger = await make_user()
    assert_problem(
        await client.get("/api/v1/creators/me/followers/growth", headers=stranger.headers),
        403,
        "not_a_creator",
    )
    assert_problem(await client.get("/api/v1/creators/nobody_here"), 404, "creator_not_found")
