"""Event types the live context raises (outbox) and the room events it broadcasts."""

SESSION_SCHEDULED = "live.session_scheduled"
SESSION_STARTED = "live.session_started"
SESSION_ENDED = "live.session_ended"
PRODUCT_PINNED = "live.product_pinned"
PRODUCT_UNPINNED = "live.product_unpinned"
