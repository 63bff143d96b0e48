"""Moderation: what users may write, starting with the ban on links to outside shops."""
