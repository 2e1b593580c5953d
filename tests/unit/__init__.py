"""Tests that need no Docker daemon: pure functions, recorded answers, the layout, the notebooks as files
(`make test-unit`)."""
