"""Checkout: the buyer's cart, checkouts (address, parcels, quotes, landed cost, coupons,
reservations) and the flow from a confirmed checkout to paid orders."""
