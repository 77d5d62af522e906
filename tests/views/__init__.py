"""Tests of ``dashboard/views``: pure functions of query results."""
