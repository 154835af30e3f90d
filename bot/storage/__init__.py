"""Storage: the database, its SQLAlchemy tables and Alembic migrations."""
