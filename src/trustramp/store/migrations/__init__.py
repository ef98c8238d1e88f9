"""Alembic environment and revisions of the trustramp schema (run via ``store.upgrade``)."""
