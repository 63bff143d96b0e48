"""The demo logins `liveloop demo seed` creates, shown on the console and on the home page in
development so a newcomer can try every role."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    display_name: str
    country: str
    time_zone: str
    locale: str
    is_platform_admin: bool = False
    is_creator: bool = False


DEMO_PASSWORD = "liveloop-demo-2026"

DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin(
        "seller (Guangzhou music boxes & figurines)",
        "lin@melody-box.demo",
        DEMO_PASSWORD,
        "Lin Mei",
        "CN",
        "Asia/Shanghai",
        "zh_Hans_CN",
    ),
    DemoLogin(
        "host (streams to London evenings)",
        "host@melody-box.demo",
        DEMO_PASSWORD,
        "Chen Jun",
        "CN",
        "Asia/Shanghai",
        "en_GB",
    ),
    DemoLogin(
        "seller (fashion)",
        "sofia@atelier-nova.demo",
        DEMO_PASSWORD,
        "Sofia Marin",
        "CN",
        "Asia/Shanghai",
        "en_GB",
    ),
    DemoLogin(
        "seller (beauty)",
        "hana@glow-lab.demo",
        DEMO_PASSWORD,
        "Hana Park",
        "CN",
        "Asia/Shanghai",
        "en_GB",
    ),
    DemoLogin(
        "creator",
        "maya@creators.demo",
        DEMO_PASSWORD,
        "Maya Collins",
        "GB",
        "Europe/London",
        "en_GB",
        is_creator=True,
    ),
    DemoLogin(
        "buyer (GB)",
        "olivia@buyers.demo",
        DEMO_PASSWORD,
        "Olivia Brown",
        "GB",
        "Europe/London",
        "en_GB",
    ),
    DemoLogin(
        "buyer (US)",
        "jake@buyers.demo",
        DEMO_PASSWORD,
        "Jake Miller",
        "US",
        "America/New_York",
        "en_US",
    ),
    DemoLogin(
        "buyer (DE)",
        "lena@buyers.demo",
        DEMO_PASSWORD,
        "Lena Schmidt",
        "DE",
        "Europe/Berlin",
        "de_DE",
    ),
    DemoLogin(
        "buyer (SG)",
        "wei@buyers.demo",
        DEMO_PASSWORD,
        "Tan Wei Ling",
        "SG",
        "Asia/Singapore",
        "en_SG",
    ),
    DemoLogin(
        "platform admin",
        "admin@liveloop.demo",
        DEMO_PASSWORD,
        "Platform Admin",
        "GB",
        "Europe/London",
        "en_GB",
        is_platform_admin=True,
    ),
]
