from prover.consumers import NumberedFramesConsumer


class TrainingConsumer(NumberedFramesConsumer):
    """A training run's live curves (group `training.<id>`): batches of metric points and status changes."""

    kind = "training"

    @property
    def model(self):
        from .models import TrainingRun

        return TrainingRun
