"""Pantograph protocol client, REPL worker process and pool. No Django."""
