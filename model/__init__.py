"""Exploration: the explicit-state model checker, state graphs and the ``model.check`` CLI."""
