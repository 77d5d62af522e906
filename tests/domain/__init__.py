"""Tests of ``domain/``: definitions, targets, filters, Thai dates and text."""
