from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action

from ..models import Checkpoint, MetricPoint, TrainingRun


class TrainingRunSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TrainingRun
        fields = ["id", "kind", "name", "status", "config", "versions", "owner", "base_checkpoint", "error",
                  "created_at", "started_at", "finished_at", "steps_done"]


class MetricPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricPoint
        fields = ["name", "step", "value"]


class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Checkpoint
        fields = ["id", "kind", "name", "path", "training_run", "parent", "meta", "created_at"]


class TrainingRunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TrainingRunSerializer
    queryset = TrainingRun.objects.select_related("owner")

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


class CheckpointViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CheckpointSerializer
    queryset = Checkpoint.objects.all()
