"""The REST API's shared pieces: artifacts (checkpoints, trajectories, probe sets) and service errors."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from .errors import ServiceError
from .models import Artifact


def as_validation_error(exc: ServiceError) -> ValidationError:
    """A refused request as a 400 whose keys are the fields (dotted for nested config, e.g. `search.max_depth`)."""
    return ValidationError(exc.errors)


class ArtifactSerializer(serializers.ModelSerializer):
    producer = serializers.SerializerMethodField(help_text="the job that produced it: {kind, id}, or null")

    class Meta:
        model = Artifact
        fields = ["id", "kind", "name", "path", "producer", "parent", "meta", "created_at"]

    def get_producer(self, artifact) -> dict | None:
        return {"kind": artifact.producer_kind, "id": artifact.producer_id} if artifact.producer_id else None


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("kind", OpenApiTypes.STR, enum=list(Artifact.Kind.values), description="Only this kind."),
]))
class ArtifactViewSet(viewsets.ReadOnlyModelViewSet):
    """Files jobs produced: checkpoints (lora, ebm), search trajectories, probe sets, with their lineage."""

    serializer_class = ArtifactSerializer

    def get_queryset(self):
        queryset = Artifact.objects.order_by("-created_at", "-id")
        if kind := self.request.query_params.get("kind"):
            if kind not in Artifact.Kind.values:
                raise ValidationError({"kind": [f"must be one of {', '.join(Artifact.Kind.values)}, got {kind!r}"]})
            queryset = queryset.filter(kind=kind)
        return queryset
