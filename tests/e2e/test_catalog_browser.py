"""The catalog pages in chromium: a seller creates, lists and imports; an admin approves; a buyer
searches and buys on a phone and on a desktop, by keyboard alone where it matters."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.async_api import BrowserContext, Page, expect

from liveloop.bootstrap import Container
from liveloop.catalog import service as catalog_service
from liveloop.catalog.models import ListingStatus
from liveloop.catalog.schemas import ListingCreate, ProductCreate
from tests.e2e.conftest import Login, Screenshot

pytestmark = pytest.mark.browser

SELLER = "lin@melody-box.demo"
ADMIN = "admin@liveloop.demo"
BUYER = "olivia@buyers.demo"

IMPORT_CSV = (
    "sku,product_handle,title,category,price,currency,weight_g,length_mm,width_mm,height_mm,"
    "hs_code,origin_country,customs_description\n"
    "E2E-IMP-1,e2e-imported-box,Imported box,home.music-boxes,50.00,CNY,300,90,90,90,920810,CN,"
    "Music box\n"
    "E2E-IMP-2,e2e-other-box,Other box,home.music-boxes,60.00,ZZZ,300,90,90,90,920810,CN,"
    "Music box\n"
)


async def assert_page_basics(page: Page) -> None:
    """One <main>, headings that never skip a level, and a label for every visible input."""
    assert await page.locator("main").count() == 1
    levels = await page.eval_on_selector_all(
        "main h1, main h2, main h3, main h4", "els => els.map(e => Number(e.tagName[1]))"
    )
    assert levels and levels[0] == 1, levels
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    unlabelled = await page.eval_on_selector_all(
        "main input:not([type=hidden]), main select, main textarea",
        """els => els.filter(e => e.offsetParent !== null || e.type === 'radio')
                   .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                   .map(e => e.name)""",
    )
    assert unlabelled == []


async def test_seller_creates_a_product_lists_it_and_imports_a_csv(
    desktop_context: BrowserContext, login: Login, screenshot: Screenshot
) -> None:
    await login(desktop_context, SELLER)
    page = await desktop_context.new_page()
    await page.goto("/seller")
    await page.get_by_role("link", name="Melody Box Guangzhou").click()
    await page.get_by_role("link", name="Add a product").click()
    await assert_page_basics(page)

    await page.get_by_label("Title").fill("Nutcracker suite music box")
    await page.get_by_label("Category").select_option("home.music-boxes")
    await page.get_by_label("SKU").fill("E2E-NUT-1")
    await page.get_by_label(re.compile(r"^Base price")).fill("99.00")
    await page.get_by_label("HS code").fill("12345")
    await page.get_by_label("Customs description").fill("Wooden music box")
    for name, value in (("Weight", "420"), ("Length", "120"), ("Width", "90"), ("Height", "80")):
        await page.get_by_label(re.compile(f"^{name}")).fill(value)
    await page.get_by_role("button", name="Save product").click()

    hs_error = page.locator("#variants-0-hs_code-error")
    await expect(hs_error).to_have_text(
        "'12345' is not an HS code: 6 to 10 digits, no dots or spaces"
    )
    await expect(page.get_by_label("HS code")).to_have_attribute("aria-invalid", "true")
    await screenshot(page, "seller-hs-code-error")
    await page.get_by_label("HS code").fill("920810")
    await page.get_by_role("button", name="Save product").click()
    await expect(page.get_by_role("status")).to_have_text("Product saved.")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nutcracker suite music box")

    await expect(page.get_by_label("Market", exact=True)).to_have_value("GB")
    await page.get_by_label("Price for every variant").fill("12.99")
    await page.get_by_role("button", name="Create the listing").click()
    listing = page.locator("#listing-GB")
    await expect(listing.locator(".badge")).to_have_text("Draft")
    await listing.get_by_role("button", name="Submit to the compliance gate").click()
    await expect(page.locator("#listing-GB .badge")).to_have_text("Active")
    await expect(page.locator("#listing-GB")).to_contain_text("£12.99")

    await page.get_by_role("link", name="Import", exact=True).click()
    await page.get_by_label("CSV file").set_input_files(
        files=[{"name": "catalog.csv", "mimeType": "text/csv", "buffer": IMPORT_CSV.encode()}]
    )
    await page.get_by_role("button", name="Import").click()
    report = page.get_by_test_id("import-report")
    await expect(report).to_contain_text("Imported catalog.csv")
    rows = report.locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.locator("td")).to_have_text(["3", "currency", re.compile("ZZZ")])
    await screenshot(page, "seller-import-report")


async def test_admin_approves_a_listing_waiting_for_review(
    e2e_container: Container, desktop_context: BrowserContext, login: Login
) -> None:
    async with e2e_container.sessionmaker() as session:
        shop = await catalog_service.get_shop_by_slug_or_id(session, "melody-box")
        product = await catalog_service.create_product(
            session,
            shop.id,
            ProductCreate.model_validate(
                {
                    "title": "Collector's pocket knife music box",
                    "category": "home.music-boxes",
                    "variants": [
                        {
                            "sku": "E2E-REVIEW-1",
                            "price": 9900,
                            "currency": "CNY",
                            "weight_g": 300,
                            "length_mm": 90,
                            "width_mm": 90,
                            "height_mm": 90,
                            "hs_code": "920810",
                            "origin_country": "CN",
                            "customs_description": "Music box",
                            "age_restricted": True,
                        }
                    ],
                }
            ),
            actor="test",
        )
        listing = await catalog_service.create_listing(
            session,
            shop.id,
            product.id,
            ListingCreate(market="GB", derive_from_base=True),
            actor="test",
        )
        listing = await catalog_service.submit_listing(session, shop.id, listing.id, actor="test")
        assert listing.status is ListingStatus.pending_review
        await session.commit()

    await login(desktop_context, ADMIN)
    page = await desktop_context.new_page()
    await page.goto("/admin/review")
    await assert_page_basics(page)
    item = page.locator(f"#review-{listing.id}")
    await expect(item).to_contain_text("Collector's pocket knife music box")
    await item.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_have_text("Listing approved: it is on sale.")
    await expect(page.locator(f"#review-{listing.id}")).to_have_count(0)
    async with e2e_container.sessionmaker() as session:
        approved = await catalog_service.get_listing_of_shop(session, shop.id, listing.id)
        assert approved.status is ListingStatus.active


async def _search_by_keyboard(page: Page, words: str) -> None:
    """Tab from the top of the page to the search field, type, and submit with Enter."""
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == "q":
            break
    else:
        raise AssertionError("the search field is not reachable with Tab")
    await page.keyboard.type(words)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/search\?"))


async def test_buyer_searches_and_adds_to_cart_on_a_phone_and_a_desktop(
    phone_context: BrowserContext,
    desktop_context: BrowserContext,
    login: Login,
    screenshot: Screenshot,
) -> None:
    phone = await phone_context.new_page()
    await phone.goto("/search?market=GB")
    await _search_by_keyboard(phone, "swan lake")
    result = phone.get_by_role("link", name="Swan Lake walnut music box")
    await expect(result).to_be_visible()
    await assert_page_basics(phone)
    await screenshot(phone, "buyer-search-phone")
    await result.focus()
    await phone.keyboard.press("Enter")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Swan Lake walnut music box")
    await expect(phone.get_by_test_id("price")).to_have_text("£9.99")
    await assert_page_basics(phone)
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    await phone.get_by_role("button", name="Add to cart").click()
    await expect(phone.get_by_role("status")).to_have_text(
        re.compile(r"^Added\. Your cart has 1 item: £9\.99\.$")
    )
    await screenshot(phone, "buyer-product-phone")

    await login(desktop_context, BUYER)
    desk = await desktop_context.new_page()
    await desk.goto("/search?q=owl")
    await desk.get_by_role("link", name="Wizard Academy owl figurine").click()
    await desk.get_by_label(re.compile("18 cm")).check()
    await desk.get_by_label("Quantity").fill("2")
    await desk.get_by_role("button", name="Add to cart").click()
    await expect(desk.get_by_role("status")).to_have_text(
        re.compile(r"^Added\. Your cart has 2 items: ")
    )
    await desk.get_by_label("Quantity").fill("0")
    await desk.get_by_role("button", name="Add to cart").click()
    await expect(desk.locator("#quantity-error")).not_to_be_empty()
    await screenshot(desk, "buyer-product-desktop")
