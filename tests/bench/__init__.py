"""Tests of the benchmark's own tools."""
