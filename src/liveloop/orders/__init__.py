"""Orders: one order per shop per checkout, its status table and history, returns and refunds,
and the customer-service conversation on each order."""
