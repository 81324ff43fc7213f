"""Bundled demo media (see ATTRIBUTION-shared.md)."""
