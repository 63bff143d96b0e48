"""The compliance gate: the platform's listing rules per market, and their verdict on a product.

The baseline rules are `data/compliance_rules.json`; an admin's change is stored as a new
version of the rule (`compliance_rule_versions`), and the latest version of each rule id wins.
A verdict is `active` (no rule stands in the way), `pending_review` (a rule asks a platform admin
to look) or `rejected` (a prohibition, or documents a rule requires are missing), with every
reason listed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog.models import ComplianceRuleVersion, ListingStatus, Product, Variant
from liveloop.catalog.taxonomy import DATA, check_category, markets, within

FLAGS = ("contains_battery", "contains_liquid", "age_restricted")
DOCUMENTS = (
    "ce_mark",
    "ukca_mark",
    "ingredient_list",
    "eu_responsible_person",
    "uk_responsible_person",
    "un38_3_test_summary",
    "msds",
    "age_verification",
)


class RuleMatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[str] = Field(default_factory=list)
    flags: list[Literal["contains_battery", "contains_liquid", "age_restricted"]] = Field(
        default_factory=list
    )
    keywords: list[str] = Field(default_factory=list)
    hs_prefixes: list[str] = Field(default_factory=list)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        return [check_category(v) for v in value]


class Rule(BaseModel):
    """One rule; `id` is stable across versions."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")
    markets: list[str] = Field(min_length=1)
    action: Literal["prohibit", "require", "review"]
    match: RuleMatch
    requires_all: list[str] = Field(default_factory=list)
    requires_any: list[str] = Field(default_factory=list)
    message: str = Field(min_length=1, max_length=500)
    effective_from: date | None = None
    effective_to: date | None = None
    retired: bool = False

    @field_validator("markets")
    @classmethod
    def _markets(cls, value: list[str]) -> list[str]:
        groups = {g for m in markets().values() for g in m.groups}
        for code in value:
            if code != "*" and code not in markets() and code not in groups:
                raise ValueError(f"{code!r} is not a market, a market group or '*'")
        return value

    def applies_to_market(self, market: str) -> bool:
        if "*" in self.markets or market in self.markets:
            return True
        return any(g in self.markets for g in markets()[market].groups)

    def in_force(self, on: date) -> bool:
        if self.retired:
            return False
        if self.effective_from and on < self.effective_from:
            return False
        return not (self.effective_to and on >= self.effective_to)

    def markets_covered(self) -> set[str]:
        return {m for m in markets() if self.applies_to_market(m)}


def baseline_rules() -> dict[str, Rule]:
    data = json.loads((DATA / "compliance_rules.json").read_text(encoding="utf-8"))
    return {r["id"]: Rule.model_validate(r) for r in data["rules"]}


async def current_rules(session: AsyncSession) -> dict[str, Rule]:
    """The baseline overlaid by the latest stored version of each rule."""
    rules = baseline_rules()
    latest = (
        select(
            ComplianceRuleVersion.rule_id,
            func.max(ComplianceRuleVersion.version).label("version"),
        )
        .group_by(ComplianceRuleVersion.rule_id)
        .subquery()
    )
    rows = await session.scalars(
        select(ComplianceRuleVersion).join(
            latest,
            (latest.c.rule_id == ComplianceRuleVersion.rule_id)
            & (latest.c.version == ComplianceRuleVersion.version),
        )
    )
    for row in rows:
        rules[row.rule_id] = Rule.model_validate(row.definition)
    return rules


async def rule_history(session: AsyncSession, rule_id: str) -> list[ComplianceRuleVersion]:
    return list(
        (
            await session.scalars(
                select(ComplianceRuleVersion)
                .where(ComplianceRuleVersion.rule_id == rule_id)
                .order_by(ComplianceRuleVersion.version)
            )
        ).all()
    )


async def store_rule(
    session: AsyncSession, rule: Rule, *, actor: str, reason: str
) -> ComplianceRuleVersion:
    version = (
        await session.scalar(
            select(func.max(ComplianceRuleVersion.version)).where(
                ComplianceRuleVersion.rule_id == rule.id
            )
        )
        or 0
    ) + 1
    row = ComplianceRuleVersion(
        rule_id=rule.id,
        version=version,
        definition=rule.model_dump(mode="json"),
        changed_by=actor,
        reason=reason,
    )
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Verdict:
    status: ListingStatus
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower()))


def matches(rule: Rule, product: Product, variants: list[Variant]) -> bool:
    m = rule.match
    if any(within(product.category, c) for c in m.categories):
        return True
    if any(getattr(v, flag) for flag in m.flags for v in variants):
        return True
    if m.keywords:
        words = _words(f"{product.title} {product.description}")
        if any(k.lower() in words for k in m.keywords):
            return True
    return any(v.hs_code.startswith(p) for p in m.hs_prefixes for v in variants)


def evaluate(
    rules: dict[str, Rule],
    product: Product,
    variants: list[Variant],
    market: str,
    on: date,
) -> Verdict:
    failures: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    documents = set(product.compliance_documents or [])
    for rule in sorted(rules.values(), key=lambda r: r.id):
        if not (rule.in_force(on) and rule.applies_to_market(market)):
            continue
        if not matches(rule, product, variants):
            continue
        if rule.action == "prohibit":
            failures.append({"rule_id": rule.id, "kind": "prohibited", "message": rule.message})
        elif rule.action == "review":
            reviews.append({"rule_id": rule.id, "kind": "review", "message": rule.message})
        else:
            missing = [d for d in rule.requires_all if d not in documents]
            if rule.requires_any and not documents.intersection(rule.requires_any):
                missing.append(" or ".join(rule.requires_any))
            if missing:
                failures.append(
                    {
                        "rule_id": rule.id,
                        "kind": "missing_documents",
                        "message": rule.message,
                        "missing": missing,
                    }
                )
    if failures:
        return Verdict(ListingStatus.rejected, failures)
    if reviews:
        return Verdict(ListingStatus.pending_review, reviews)
    return Verdict(ListingStatus.active, [])
