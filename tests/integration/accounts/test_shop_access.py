"""Shop staff, per-shop API keys, and the rule that a shop's resources are invisible to others."""

from __future__ import annotations

import uuid

import httpx

from liveloop.accounts.models import ShopRole
from tests.conftest import MakeUser, assert_problem


async def test_seller_of_shop_a_gets_404_on_shop_b(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    shop_a, shop_b = uuid.uuid4(), uuid.uuid4()
    seller_a = await make_user(shop_id=shop_a)
    await make_user(shop_id=shop_b)

    assert (
        await client.get(f"/api/v1/shops/{shop_a}/members", headers=seller_a.headers)
    ).status_code == 200
    for method, path, body in [
        ("GET", f"/api/v1/shops/{shop_b}/members", None),
        ("POST", f"/api/v1/shops/{shop_b}/members", {"email": "x@example.com"}),
        ("GET", f"/api/v1/shops/{shop_b}/api-keys", None),
        ("POST", f"/api/v1/shops/{shop_b}/api-keys", {"name": "steal"}),
    ]:
        response = await client.request(method, path, json=body, headers=seller_a.headers)
        assert_problem(response, 404, "shop_not_found")


async def test_staff_may_read_but_only_owners_manage(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    shop = uuid.uuid4()
    owner = await make_user(shop_id=shop, role=ShopRole.owner)
    staff = await make_user(shop_id=shop, role=ShopRole.staff)
    members = await client.get(f"/api/v1/shops/{shop}/members", headers=staff.headers)
    assert sorted(m["role"] for m in members.json()) == ["owner", "staff"]
    assert_problem(
        await client.post(
            f"/api/v1/shops/{shop}/api-keys", json={"name": "x"}, headers=staff.headers
        ),
        403,
        "forbidden",
    )
    newcomer = await make_user(email="newcomer@example.com")
    added = await client.post(
        f"/api/v1/shops/{shop}/members",
        json={"email": "newcomer@example.com"},
        headers=owner.headers,
    )
    assert added.status_code == 201
    assert added.json()["user_id"] == str(newcomer.id)
    me = await client.get("/api/v1/me", headers=newcomer.headers)
    assert me.json()["roles"] == ["buyer", "seller"]
    again = await client.post(
        f"/api/v1/shops/{shop}/members",
        json={"email": "newcomer@example.com"},
        headers=owner.headers,
    )
    assert_problem(again, 409, "already_member")
    last_owner = await client.delete(
        f"/api/v1/shops/{shop}/members/{owner.id}", headers=owner.headers
    )
    assert_problem(last_owner, 409, "last_owner")


async def test_api_key_acts_for_its_shop_only(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    shop_a, shop_b = uuid.uuid4(), uuid.uuid4()
    owner = await make_user(shop_id=shop_a)
    await make_user(shop_id=shop_b)
    created = await client.post(
        f"/api/v1/shops/{shop_a}/api-keys", json={"name": "warehouse sync"}, headers=owner.headers
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("llk_")
    assert created.json()["prefix"] == key[:12]
    key_headers = {"Authorization": f"Bearer {key}"}

    who = await client.get("/api/v1/whoami", headers=key_headers)
    assert who.json() == {
        "kind": "api_key",
        "user_id": None,
        "roles": ["shop_api"],
        "shop_ids": [str(shop_a)],
    }
    assert (
        await client.get(f"/api/v1/shops/{shop_a}/members", headers=key_headers)
    ).status_code == 200
    assert_problem(
        await client.get(f"/api/v1/shops/{shop_b}/members", headers=key_headers),
        404,
        "shop_not_found",
    )
    # an API key is not a person
    assert_problem(await client.get("/api/v1/me", headers=key_headers), 403, "forbidden")

    listed = await client.get(f"/api/v1/shops/{shop_a}/api-keys", headers=owner.headers)
    assert [k["name"] for k in listed.json()] == ["warehouse sync"]
    assert "key" not in listed.json()[0]
    revoked = await client.delete(
        f"/api/v1/shops/{shop_a}/api-keys/{created.json()['id']}", headers=owner.headers
    )
    assert revoked.status_code == 204
    assert_problem(await client.get("/api/v1/whoami", headers=key_headers), 401, "invalid_token")


async def test_platform_admin_may_see_any_shop(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    shop = uuid.uuid4()
    await make_user(shop_id=shop)
    admin = await make_user(admin=True)
    assert (
        await client.get(f"/api/v1/shops/{shop}/members", headers=admin.headers)
    ).status_code == 200
