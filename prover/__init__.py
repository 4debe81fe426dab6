"""Prover: the Django app (datasets, theorems, runs, proof trees) and, in its subpackages, the search core.

The subpackages engine/, lean/, policy/, value/ and serving/ are plain Python and never import Django.
"""
