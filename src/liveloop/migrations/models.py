"""Imports every context's models so that `Base.metadata` knows all tables (for Alembic)."""

from liveloop.accounts import models as accounts_models  # noqa: F401
from liveloop.catalog import models as catalog_models  # noqa: F401
from liveloop.checkout import models as checkout_models  # noqa: F401
from liveloop.creators import models as creators_models  # noqa: F401
from liveloop.kit import idempotency, outbox  # noqa: F401
from liveloop.kit.db import Base
from liveloop.ledger import models as ledger_models  # noqa: F401
from liveloop.live import models as live_models  # noqa: F401
from liveloop.media import models as media_models  # noqa: F401
from liveloop.orders import models as orders_models  # noqa: F401
from liveloop.payments import models as payments_models  # noqa: F401

metadata = Base.metadata
