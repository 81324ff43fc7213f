"""SQL records (SQLAlchemy 2, async) with Alembic migrations, and the content-addressed blob store.

Import what you need from the submodules: `records` (the repository API), `models`, `states`,
`engine` (engines and sessions), `migrate` (upgrade_database) and `blobs`. Nothing here imports
`vitaphone.core` stages, the queue or the bots.
"""
