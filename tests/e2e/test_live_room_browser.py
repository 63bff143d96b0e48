"""The live room in a real browser: the host pins a product in one browser, the tag appears on a
viewer's phone, the viewer buys it with a sandbox test card without leaving the room, and the
paid order shows in the buyer's orders and the seller centre; the flash-sale card counts down
and shows sold out."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from liveloop.bootstrap import Container
from liveloop.catalog import service as catalog_service
from liveloop.live.demo import demo_session

pytestmark = pytest.mark.browser


async def _room(e2e_container: Container) -> tuple[str, str]:
    async with e2e_container.sessionmaker() as session:
        live = await demo_session(session)
        assert live is not None, "the demo seed makes a live session"
        shop = await catalog_service.get_shop_by_slug_or_id(session, "melody-box")
        return str(live.id), str(shop.id)


async def test_pin_tap_and_buy_without_leaving_the_room(
    live_server: Any, e2e_container: Container, make_context: Any, login: Any, screenshot: Any
) -> None:
    room_id, shop_id = await _room(e2e_container)
    host_ctx = await make_context("desktop")
    await login(host_ctx, "host@melody-box.demo")
    viewer_ctx = await make_context("phone")
    await login(viewer_ctx, "olivia@buyers.demo")

    viewer = await viewer_ctx.new_page()
    await viewer.goto(f"/live/{room_id}")
    await viewer.evaluate("window.__sameRoom = true")  # survives only if the page never reloads
    await expect(viewer.locator("#state-badge")).to_have_text("LIVE")

    host = await host_ctx.new_page()
    await host.goto(f"/live/{room_id}/host")
    first = host.locator("#host-bag li").first
    await expect(first).to_be_visible()
    title = (await first.locator("span").first.inner_text()).split(" · ")[0]
    pin = first.get_by_role("button", name=f"Pin {title}")
    if await pin.count() == 0:  # already pinned by an earlier pass: pin it again
        await first.get_by_role("button", name=f"Unpin {title}").click()
        pin = first.get_by_role("button", name=f"Pin {title}")
    await pin.click()

    tag = viewer.locator("#tag")
    await expect(tag).to_be_visible()
    await expect(viewer.locator("#tag-title")).to_have_text(title)
    await screenshot(viewer, "live-room-phone")

    await tag.click()
    await expect(viewer.locator("#product-sheet")).to_be_visible()
    await viewer.locator("#sheet-buy").click()
    sheet = viewer.locator("#checkout-sheet")
    await expect(sheet).to_be_visible()
    await viewer.fill("#a-name", "Olivia Brown")
    await viewer.fill("#a-line1", "221B Baker Street")
    await viewer.fill("#a-city", "London")
    await viewer.fill("#a-postal", "NW1 6XE")
    await viewer.fill("#a-phone", "020 7946 0018")
    await viewer.get_by_role("button", name="See the full price").click()
    await expect(viewer.locator("#totals")).to_contain_text("Total")
    await expect(viewer.locator("#totals")).to_contain_text("£")
    await viewer.locator("#pay-button").click()
    await expect(viewer.locator("#paid")).to_be_visible(timeout=30_000)
    assert await viewer.evaluate("window.__sameRoom") is True
    assert viewer.url.endswith(f"/live/{room_id}")

    desktop = await (await make_context("desktop")).new_page()
    await desktop.context.request.post(
        live_server.url + "/api/v1/auth/login",
        data={"email": "olivia@buyers.demo", "password": "liveloop-demo-2026"},
    )
    await desktop.goto(f"/live/{room_id}")
    await expect(desktop.locator("#tag")).to_be_visible()
    await screenshot(desktop, "live-room-desktop")

    orders = await viewer_ctx.new_page()
    await orders.goto("/orders")
    await expect(orders.locator("tbody tr").first).to_contain_text("paid")

    seller_ctx = await make_context("desktop")
    await login(seller_ctx, "lin@melody-box.demo")
    seller = await seller_ctx.new_page()
    await seller.goto(f"/seller/shops/{shop_id}/orders")
    await expect(seller.locator("#shop-orders tbody tr").first).to_contain_text("paid")


async def test_flash_sale_card_counts_down_and_sells_out(
    e2e_container: Container, make_context: Any, login: Any
) -> None:
    room_id, _ = await _room(e2e_container)
    host_ctx = await make_context("desktop")
    await login(host_ctx, "host@melody-box.demo")
    host = await host_ctx.new_page()
    await host.goto(f"/live/{room_id}/host")
    viewer_ctx = await make_context("phone")
    await login(viewer_ctx, "jake@buyers.demo")
    viewer = await viewer_ctx.new_page()
    await viewer.goto(f"/live/{room_id}")

    # a one-unit sale on the last bag product, starting after the shortest countdown
    options = host.locator("#f-product option")
    await expect(options.first).to_be_attached()
    await host.select_option("#f-product", index=await options.count() - 1)
    await host.fill("#f-discount", "50")
    await host.fill("#f-qty", "1")
    await host.fill("#f-countdown", "10")
    await host.fill("#f-duration", "1")
    await host.get_by_role("button", name="Start the countdown").click()
    status = host.locator("#flash-status")
    if "already" in (await host.locator("#flash-error").inner_text()):
        pytest.fail("a flash sale was already running on that product")
    await expect(status).to_contain_text("Counting down")

    card = viewer.locator("#flash")
    await expect(card).to_be_visible()
    await expect(viewer.locator("#flash-clock")).to_contain_text("starts in")
    await expect(viewer.locator("#flash-clock")).to_contain_text("ends in", timeout=15_000)
    await viewer.locator("#flash-claim").click()
    await expect(viewer.locator("#flash-left")).to_have_text("Sold out")
    await expect(viewer.locator("#checkout-sheet")).to_be_visible()
