"""Conversations: the recent questions, and follow-ups understood with them."""
