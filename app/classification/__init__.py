"""Complaint classification: category and emotion from complaint text (no Flask here)."""
