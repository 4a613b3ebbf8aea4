"""Reusable test helpers: hypothesis strategies and consistency checkers."""
