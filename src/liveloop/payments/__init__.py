"""Payments: taking a buyer's money through a card provider, once, and giving it back by refund.

Other contexts call `liveloop.payments.service` (imported as `payments_service`) and react to
the events in `liveloop.payments.events`; they never touch the payments tables.
"""
