"""Tests of the store's door on each engine (DuckDB and PostgreSQL) and its privacy rules."""
