from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from jobs.errors import ServiceError
from jobs.models import Artifact

from ..models import MetricPoint, TrainingRun


class TrainingRunSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TrainingRun
        fields = ["id", "kind", "name", "status", "config", "versions", "owner", "base_checkpoint", "inputs", "error",
                  "attempts", "created_at", "started_at", "finished_at", "steps_done"]


class MetricPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricPoint
        fields = ["name", "step", "value"]


class TrainingLaunchSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="sft, ebm, joint or probes")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    config = serializers.DictField(help_text="The loop's settings (training.sft.train.SFTConfig, ...), output_dir excepted.")
    base_checkpoint = serializers.IntegerField(required=False, allow_null=True, default=None,
                                               help_text="id of the checkpoint artifact to start from")
    inputs = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                   help_text="artifact ids to train on (trajectories, sft_data): they fill the loop's "
                                             "file settings")


class TrainingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TrainingRunSerializer
    queryset = TrainingRun.objects.select_related("owner")

    @extend_schema(request=TrainingLaunchSerializer, responses={201: TrainingRunSerializer},
                   description="Launch a training run on a gpu worker (researcher role). Errors are keyed "
                               "`config.<setting>`.")
    def create(self, request, *args, **kwargs):
        from ..services import launch_training

        form = TrainingLaunchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        base = None
        if data["base_checkpoint"] is not None:
            base = Artifact.objects.filter(pk=data["base_checkpoint"], kind__in=Artifact.CHECKPOINT_KINDS).first()
            if base is None:
                raise ValidationError({"base_checkpoint": [f"no checkpoint {data['base_checkpoint']}"]})
        inputs = list(Artifact.objects.filter(pk__in=data["inputs"]))
        if missing := sorted(set(data["inputs"]) - {a.pk for a in inputs}):
            raise ValidationError({"inputs": [f"no artifact {', '.join(map(str, missing))}"]})
        try:
            training = launch_training(user=request.user, kind=data["kind"], config=data["config"], name=data["name"],
                                       base_checkpoint=base, inputs=inputs)
        except ServiceError as exc:
            raise ValidationError(exc.errors) from None
        return Response(TrainingRunSerializer(training).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: TrainingRunSerializer},
                   description="Cancel: the loop stops before its next step, saves what it learnt, ends `cancelled`.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        from ..services import cancel_training

        try:
            training = cancel_training(user=request.user, training=self.get_object())
        except ServiceError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        return Response(TrainingRunSerializer(training).data)

    @extend_schema(parameters=[OpenApiParameter("name", OpenApiTypes.STR, description="Only this metric.")],
                   responses={200: MetricPointSerializer(many=True)},
                   description="The run's training curves (loss, validation loss, EBM temperature ...), by name and step.")
    @action(detail=True, methods=["get"])
    def metrics(self, request, pk=None):
        points = self.get_object().metrics.order_by("name", "step")
        if name := request.query_params.get("name"):
            points = points.filter(name=name)
        page = self.paginate_queryset(points)
        return self.get_paginated_response(MetricPointSerializer(page, many=True).data)
