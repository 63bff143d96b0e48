"""Logistics: landed cost (duties and taxes), shipping rate cards, quotes and promised dates."""
