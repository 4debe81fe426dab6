"""Fixtures of the iteration tests (tests/web/iteration_parts.py), for every test module here that asks for them."""

from tests.web.iteration_parts import encoder_url, prover_policy, tiny_model  # noqa: F401
