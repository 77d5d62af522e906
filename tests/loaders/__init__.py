"""Tests of ``loaders/``: reading, checking and importing files, undo, the demo data."""
