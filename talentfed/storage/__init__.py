"""Storage: database engines, tables and migrations."""
