"""Errors raised by the value model. Each message says what was wrong and where."""


class ValueModelError(Exception):
    """Base class: anything in prover.value that cannot go on."""


class CheckpointError(ValueModelError):
    """An energy-head checkpoint is missing, malformed, or does not fit the encoder it is used with."""


class EncodeError(ValueModelError):
    """The /encode server failed, or answered with something that is not a usable embedding."""


class ScoringError(ValueModelError):
    """Scoring could not produce one finite energy per state."""
