"""Moderation's errors, each with its HTTP status and stable code."""

from __future__ import annotations

from liveloop.kit.errors import Unprocessable, field_error
from liveloop.moderation.linkban import Decision


class ContentBlocked(Unprocessable):
    """A write carried a link to an outside shop, shortener or link hub; raised by any context
    that stores user text, naming the field that held it."""

    code = "external_link_blocked"

    def __init__(self, field: str, decision: Decision) -> None:
        if decision.allowed:
            raise ValueError("nothing to block: the decision allows the text")
        domains = list(dict.fromkeys(f.domain for f in decision.findings))
        listed = ", ".join(domains)
        super().__init__(
            f"Links to outside shops are not allowed on liveloop: remove {listed}.",
            errors=[
                field_error(
                    field,
                    f"Contains a link to {f.domain} ({f.rule.replace('_', ' ')}): {f.match}",
                    code=self.code,
                )
                for f in decision.findings
            ],
            domains=domains,
        )
        self.field = field
        self.decision = decision
