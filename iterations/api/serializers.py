from rest_framework import serializers

from jobs.spec_schema import spec_serializer

from ..models import Iteration, IterationStep
from ..spec import IterationSpec

IterationSpecSerializer = spec_serializer(IterationSpec, "IterationSpec", "An iteration's settings "
                                          "(iterations.spec.IterationSpec); unknown fields are refused.")


class IterationStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = IterationStep
        fields = ["position", "name", "status", "job_kind", "job_id", "attempts", "outputs", "error", "started_at",
                  "finished_at"]


class IterationSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    steps = IterationStepSerializer(many=True, read_only=True)

    class Meta:
        model = Iteration
        fields = ["id", "name", "number", "parent", "status", "config", "versions", "owner", "error", "created_at",
                  "started_at", "finished_at", "steps"]


class IterationLaunchSerializer(serializers.Serializer):
    """An iteration to launch: a name and its settings, checked by the launch service against the iteration spec,
    every field at once; errors are keyed by field path (`search.max_nodes`)."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    config = IterationSpecSerializer(help_text="the iteration's settings")
    parent = serializers.IntegerField(required=False, allow_null=True, default=None,
                                      help_text="the iteration this one continues (its policy and data)")


class FigureSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    link = serializers.CharField()
    label = serializers.CharField()
    nodes = serializers.IntegerField(allow_null=True)
    tokens = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()


class SuccessTableSerializer(serializers.Serializer):
    iterations = serializers.ListField(child=serializers.IntegerField(), help_text="the chain's iteration ids")
    rows = serializers.ListField(child=serializers.DictField(), help_text="metric -> cells per iteration")
    attribution = serializers.ListField(child=serializers.DictField())
