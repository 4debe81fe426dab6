from rest_framework import serializers

from jobs.spec_schema import spec_serializer
from prover.engine.spec import RunSpec
from theorem_data.formats import FORMATS

from ..models import Dataset, ImportJob, ProofNode, Run, Theorem, TheoremResult


class DatasetSerializer(serializers.ModelSerializer):
    theorem_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "id", "name", "source", "licence", "lean_version", "mathlib_version", "format", "notes",
            "created_at", "theorem_count",
        ]


class DatasetImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The data file (JSON or JSONL, UTF-8).")
    format = serializers.ChoiceField(choices=["auto", *FORMATS], default="auto")
    name = serializers.CharField(max_length=200)
    source = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    licence = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lean_version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    mathlib_version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class DatasetImportResultSerializer(serializers.Serializer):
    dataset = DatasetSerializer()
    theorems = serializers.IntegerField()
    proofs = serializers.IntegerField()
    flagged = serializers.ListField(child=serializers.CharField())
    rejected = serializers.ListField(child=serializers.DictField())
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    dataset = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The dataset's id, once it is stored.")

    class Meta:
        model = ImportJob
        fields = [
            "id", "name", "status", "phase", "done", "total", "file_name", "file_format", "size_bytes", "error",
            "summary", "dataset", "owner", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


class TheoremSerializer(serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Theorem
        fields = [
            "id", "dataset", "name", "split", "statement", "formal_statement", "header", "informal_statement",
            "informal_proof", "content_hash", "flagged", "flag_reason",
        ]


class RunSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    dataset = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Run
        fields = [
            "id", "name", "status", "dataset", "config", "versions", "owner", "cloned_from", "error", "attempts",
            "created_at", "started_at", "finished_at", "theorems_total", "theorems_done", "theorems_proved",
            "nodes_expanded", "tokens", "lean_ms", "generate_ms", "ebm_ms",
        ]


class TheoremResultSerializer(serializers.ModelSerializer):
    theorem_name = serializers.CharField(source="theorem.name", read_only=True)

    class Meta:
        model = TheoremResult
        fields = [
            "id", "run", "theorem", "theorem_name", "status", "failure_reason", "error", "proof", "proof_tactics",
            "nodes_expanded", "total_states", "max_depth", "tokens", "prompt_tokens", "tokens_to_proof",
            "nodes_to_proof", "wall_ms", "lean_ms", "generate_ms", "ebm_ms", "stats", "started_at", "finished_at",
        ]


RunSpecSerializer = spec_serializer(RunSpec, "RunSpec", "A run's settings (prover.engine.spec.RunSpec); unknown "
                                    "fields are refused.")


class RunLaunchSerializer(serializers.Serializer):
    """A run to launch: a name and its settings. The settings are checked by the launch service against the
    run spec, every field at once; errors are keyed by field path (`search.max_depth`)."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    config = RunSpecSerializer(help_text="the run's settings")
    cloned_from = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1,
                                           help_text="the run this one was cloned from")


class ProofNodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProofNode
        fields = [
            "node_id", "parent_node_id", "kind", "tactic", "goal_text", "num_goals", "depth", "log_prob", "energy",
            "status", "is_terminal", "expansion_order", "merged_count", "lean_ms", "generate_ms", "error", "source",
        ]


class RunMetricSerializer(serializers.Serializer):
    name = serializers.CharField()
    step = serializers.IntegerField()
    value = serializers.FloatField()


class RunComparisonSerializer(serializers.Serializer):
    """Two runs at equal compute (docs/comparison.md): tokens are generated tokens, a proof costs what was spent
    when it was found."""

    a = serializers.IntegerField()
    b = serializers.IntegerField()
    only_a = serializers.ListField(child=serializers.CharField(), help_text="theorems proved by a and not b")
    only_b = serializers.ListField(child=serializers.CharField())
    both = serializers.ListField(child=serializers.CharField())
    totals = serializers.ListField(child=serializers.IntegerField(), help_text="[a, b]: theorems in each run")
    equal_tokens = serializers.IntegerField(help_text="the per-theorem generated-token allowance both runs had")
    equal_nodes = serializers.IntegerField(help_text="the per-theorem node allowance both runs had")
    solved_at_equal_tokens = serializers.ListField(child=serializers.IntegerField(), help_text="[a, b]")
    solved_at_equal_nodes = serializers.ListField(child=serializers.IntegerField(), help_text="[a, b]")
    rate_at_equal_tokens = serializers.ListField(child=serializers.FloatField(), help_text="[a, b]")
    rate_at_equal_nodes = serializers.ListField(child=serializers.FloatField(), help_text="[a, b]")
    curves = serializers.DictField(help_text="tokens/nodes -> [{x, y, name}] step curves, one per run")
