"""Ledger: double-entry journal in minor units per currency, balances, seller statements and
payouts."""
