"""Whole notebooks run as learners run them: every solution applied, a restart halfway, no daemon (Binder),
the browser."""
