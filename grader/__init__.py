"""Práctico 2 kit: task checks, stub generation, grading and experiments."""

__version__ = "0.1.0"
