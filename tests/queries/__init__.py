"""Tests of ``dashboard/queries`` and the views drawn from them, subject by subject (each
also runs its page through AppTest where the page adds something of its own)."""
