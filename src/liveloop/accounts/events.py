"""Event types that accounts raises (delivered through the outbox)."""

USER_SIGNED_UP = "accounts.user_signed_up"
USER_LOGGED_IN = "accounts.user_logged_in"
MEMBER_ADDED = "accounts.shop_member_added"
MEMBER_REMOVED = "accounts.shop_member_removed"
API_KEY_CREATED = "accounts.api_key_created"
API_KEY_REVOKED = "accounts.api_key_revoked"
