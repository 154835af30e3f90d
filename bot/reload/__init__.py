"""Reloading the knowledge: the atomic, incremental index build and its report."""
