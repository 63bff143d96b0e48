"""Sign-up, login, logout, token expiry, CSRF and login rate limits, through HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.models import User
from liveloop.bootstrap import Container
from liveloop.kit.clock import clock
from tests.conftest import PASSWORD, MakeUser, assert_problem

SIGNUP = {
    "email": "Amelia.Jones@Example.com",
    "password": PASSWORD,
    "display_name": "Amelia Jones",
    "country": "gb",
    "time_zone": "Europe/London",
    "locale": "en_GB",
}


async def _user_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_sign_up_creates_a_buyer_and_signs_in(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/signup", json=SIGNUP)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == "amelia.jones@example.com"
    assert body["user"]["country"] == "GB"
    assert body["token"].startswith("lls_")
    assert "liveloop_session" in response.headers["set-cookie"]
    assert "HttpOnly" in response.headers["set-cookie"]

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["roles"] == ["buyer"]
    assert me.json()["memberships"] == []


async def test_sign_up_with_a_taken_email_is_a_conflict(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert (await client.post("/api/v1/auth/signup", json=SIGNUP)).status_code == 201
    before = await _user_count(session)
    again = await client.post(
        "/api/v1/auth/signup", json={**SIGNUP, "email": "amelia.jones@example.COM"}
    )
    body = assert_problem(again, 409, "email_taken")
    assert body["errors"] == [{"field": "email", "message": "already registered", "code": "taken"}]
    assert await _user_count(session) == before


async def test_sign_up_rejects_malformed_email_weak_password_and_bad_fields(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    before = await _user_count(session)
    bad_email = await client.post("/api/v1/auth/signup", json={**SIGNUP, "email": "not-an-email"})
    body = assert_problem(bad_email, 422, "invalid")
    assert [e["field"] for e in body["errors"]] == ["email"]

    weak = await client.post("/api/v1/auth/signup", json={**SIGNUP, "password": "password123"})
    body = assert_problem(weak, 422, "weak_password")
    assert body["errors"][0]["field"] == "password"

    short = await client.post("/api/v1/auth/signup", json={**SIGNUP, "password": "Xy7!"})
    assert assert_problem(short, 422, "weak_password")["errors"][0]["message"].startswith(
        "Use at least 10"
    )

    bad_zone = await client.post(
        "/api/v1/auth/signup", json={**SIGNUP, "time_zone": "Mars/Olympus"}
    )
    assert [e["field"] for e in assert_problem(bad_zone, 422, "invalid")["errors"]] == ["time_zone"]

    bad_country = await client.post("/api/v1/auth/signup", json={**SIGNUP, "country": "XX"})
    assert [e["field"] for e in assert_problem(bad_country, 422, "invalid")["errors"]] == [
        "country"
    ]

    extra = await client.post("/api/v1/auth/signup", json={**SIGNUP, "is_platform_admin": True})
    assert [e["field"] for e in assert_problem(extra, 422, "invalid")["errors"]] == [
        "is_platform_admin"
    ]
    assert await _user_count(session) == before


async def test_login_and_logout(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    user = await make_user(email="kai@example.com")
    response = await client.post(
        "/api/v1/auth/login", json={"email": "KAI@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).json()["id"] == str(user.id)

    out = await client.post("/api/v1/auth/logout", headers=headers)
    assert out.status_code == 204
    after = await client.get("/api/v1/me", headers=headers)
    assert_problem(after, 401, "invalid_token")
    # the other session (from make_user) is untouched
    assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user(email="zoe@example.com")
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "zoe@example.com", "password": "nope-nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "nope-nope-nope"}
    )
    a = assert_problem(wrong, 401, "invalid_credentials")
    b = assert_problem(unknown, 401, "invalid_credentials")
    for body in (a, b):
        body.pop("request_id")
    assert a == b


async def test_session_token_expires(
    client: httpx.AsyncClient, make_user: MakeUser, container: Container
) -> None:
    user = await make_user()
    assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
    with clock.travel(container.accounts.session_ttl - timedelta(seconds=5)):
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
    with clock.travel(container.accounts.session_ttl + timedelta(seconds=1)):
        assert_problem(await client.get("/api/v1/me", headers=user.headers), 401, "session_expired")


async def test_unauthenticated_and_garbage_tokens(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/me"), 401, "unauthenticated")
    response = await client.get("/api/v1/me", headers={"Authorization": "Bearer lls_forged"})
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_cookie_writes_need_the_csrf_token(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user(email="cookie@example.com")
    login = await client.post(
        "/api/v1/auth/login", json={"email": "cookie@example.com", "password": PASSWORD}
    )
    csrf = login.json()["csrf_token"]
    assert client.cookies.get("liveloop_session") == login.json()["token"]
    # reading with the cookie needs no CSRF token
    assert (await client.get("/api/v1/me")).status_code == 200
    refused = await client.patch("/api/v1/me", json={"display_name": "Changed"})
    assert_problem(refused, 403, "csrf_failed")
    assert (await client.get("/api/v1/me")).json()["display_name"] == "cookie"
    wrong = await client.patch(
        "/api/v1/me", json={"display_name": "Changed"}, headers={"X-CSRF-Token": "x" + csrf}
    )
    assert_problem(wrong, 403, "csrf_failed")
    ok = await client.patch(
        "/api/v1/me", json={"display_name": "Changed"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200
    assert ok.json()["display_name"] == "Changed"


async def test_failed_logins_are_limited_per_account(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user(email="target@example.com")
    for _ in range(5):
        r = await client.post(
            "/api/v1/auth/login",
            json={"email": "target@example.com", "password": "wrong-guess-123"},
        )
        assert_problem(r, 401, "invalid_credentials")
    limited = await client.post(
        "/api/v1/auth/login", json={"email": "target@example.com", "password": PASSWORD}
    )
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
    # another account from the same address is not locked out by this one
    await make_user(email="other@example.com")
    ok = await client.post(
        "/api/v1/auth/login", json={"email": "other@example.com", "password": PASSWORD}
    )
    assert ok.status_code == 200


async def test_attempts_are_limited_per_client_address(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user(email="spray@example.com")
    for i in range(30):
        r = await client.post(
            "/api/v1/auth/login", json={"email": f"guess{i}@example.com", "password": "x-y-z-w-v"}
        )
        assert r.status_code == 401
    limited = await client.post(
        "/api/v1/auth/login", json={"email": "spray@example.com", "password": PASSWORD}
    )
    assert_problem(limited, 429, "rate_limited")
