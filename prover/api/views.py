from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from jobs.api import as_validation_error
from jobs.params import api_id

from .. import selectors
from ..models import Dataset, ImportJob, Run, Theorem, TheoremResult
from ..services import (
    ServiceError,
    cancel_run,
    compare_runs,
    import_upload,
    launch_run,
    queue_import,
    runs_in_background,
)
from .serializers import (
    DatasetImportResultSerializer,
    DatasetImportSerializer,
    DatasetSerializer,
    ImportJobSerializer,
    ProofNodeSerializer,
    RunComparisonSerializer,
    RunLaunchSerializer,
    RunMetricSerializer,
    RunSerializer,
    TheoremResultSerializer,
    TheoremSerializer,
)


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DatasetSerializer
    queryset = Dataset.objects.annotate(theorem_count=Count("theorems")).order_by("name")

    @extend_schema(
        request={"multipart/form-data": DatasetImportSerializer},
        responses={201: DatasetImportResultSerializer, 202: ImportJobSerializer},
        description="Import a data file as a new dataset, all or nothing. Needs the researcher role. A file over "
                    "BURNQED_IMPORT_INLINE_MAX_BYTES is imported in the background: the answer is 202 with the "
                    "import job, whose progress `GET /api/imports/{id}/` shows.",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_file(self, request):
        form = DatasetImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data.pop("file")
        try:
            if runs_in_background(upload):
                job = queue_import(user=request.user, upload=upload, **form.validated_data)
                return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
            summary = import_upload(user=request.user, upload=upload, **form.validated_data)
        except ServiceError as exc:
            raise as_validation_error(exc) from None
        dataset = Dataset.objects.annotate(theorem_count=Count("theorems")).get(pk=summary.dataset.pk)
        body = {"dataset": DatasetSerializer(dataset).data, **summary.as_dict()}
        return Response(body, status=status.HTTP_201_CREATED)


class ImportJobViewSet(viewsets.ReadOnlyModelViewSet):
    """Background imports of large data files: status, phase and progress (theorems stored of expected)."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.select_related("owner")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("dataset", OpenApiTypes.STR, description="Dataset name or id."),
            OpenApiParameter("split", OpenApiTypes.STR, description="Split, e.g. test or valid."),
            OpenApiParameter("name", OpenApiTypes.STR, description="Substring of the theorem name."),
            OpenApiParameter("flagged", OpenApiTypes.BOOL, description="Only flagged (known-wrong) statements."),
        ]
    )
)
class TheoremViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TheoremSerializer

    def get_queryset(self):
        queryset = Theorem.objects.select_related("dataset").order_by("dataset__name", "name")
        params = self.request.query_params
        if dataset := params.get("dataset"):
            if dataset.isdecimal():
                queryset = queryset.filter(dataset_id=api_id(params, "dataset"))
            else:
                queryset = queryset.filter(dataset__name=dataset)
        if split := params.get("split"):
            queryset = queryset.filter(split=split)
        if name := params.get("name"):
            queryset = queryset.filter(name__icontains=name)
        if params.get("flagged") in ("1", "true", "True"):
            queryset = queryset.filter(flagged=True)
        return queryset


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, description="Run status.")])
)
class RunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RunSerializer

    def get_queryset(self):
        queryset = Run.objects.select_related("owner", "dataset")
        if run_status := self.request.query_params.get("status"):
            queryset = queryset.filter(status=run_status)
        return queryset

    @extend_schema(request=RunLaunchSerializer, responses={201: RunSerializer},
                   description="Launch a run (researcher role). Field errors are keyed like the config, "
                               "e.g. `search.max_depth`.")
    def create(self, request, *args, **kwargs):
        # The settings go to the launch service as sent: the run spec checks them, with the form's messages.
        form = RunLaunchSerializer(data=request.data, partial=True)
        form.fields["config"] = serializers.JSONField()
        form.is_valid(raise_exception=True)
        cloned_from = None
        if form.validated_data.get("cloned_from") is not None:
            cloned_from = Run.objects.filter(pk=form.validated_data["cloned_from"]).first()
            if cloned_from is None:
                raise ValidationError({"cloned_from": [f"no run {form.validated_data['cloned_from']}"]})
        if "config" not in form.validated_data:
            raise ValidationError({"config": ["the run's settings are required"]})
        try:
            run = launch_run(user=request.user, config=form.validated_data["config"],
                             name=form.validated_data.get("name", ""), cloned_from=cloned_from)
        except ServiceError as exc:
            raise as_validation_error(exc) from None
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RunSerializer},
                   description="Cancel a run: it stops at the next expansion of every worker and ends `cancelled`.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = self.get_object()
        try:
            run = cancel_run(user=request.user, run=run)
        except ServiceError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        return Response(RunSerializer(run).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("theorem", OpenApiTypes.INT, required=True, description="Theorem id."),
            OpenApiParameter("parent", OpenApiTypes.INT, description="Node id whose subtree to page through "
                             "(default: the root's)."),
            OpenApiParameter("depth", OpenApiTypes.INT, description="Levels below `parent` (default 2, max 50)."),
        ],
        responses={200: ProofNodeSerializer(many=True)},
        description="The proof tree of one theorem in a run, one subtree at a time, paginated.",
    )
    @action(detail=True, methods=["get"])
    def tree(self, request, pk=None):
        run = self.get_object()
        params = request.query_params
        theorem_id = api_id(params, "theorem", required=True)
        parent = api_id(params, "parent")
        depth = api_id(params, "depth")
        depth = 2 if depth is None else min(50, max(1, depth))
        nodes = selectors.subtree(run.pk, theorem_id, parent=parent, depth=depth)
        page = self.paginate_queryset(nodes)
        return self.get_paginated_response(ProofNodeSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("a", OpenApiTypes.INT, required=True), OpenApiParameter("b", OpenApiTypes.INT, required=True)],
        responses={200: RunComparisonSerializer},
        description="Two runs side by side: proved by one and not the other, rates at equal tokens and nodes per "
                    "theorem, and the solved-vs-compute curves (what the compare page shows).",
    )
    @action(detail=False, methods=["get"])
    def compare(self, request):
        a, b = api_id(request.query_params, "a", required=True), api_id(request.query_params, "b", required=True)
        try:
            run_a, run_b = self.get_queryset().get(pk=a), self.get_queryset().get(pk=b)
        except Run.DoesNotExist:
            raise ValidationError({"a": ["no such run"]}) from None
        comparison = compare_runs(run_a, run_b)
        return Response({"a": run_a.pk, "b": run_b.pk, **comparison.to_dict(),
                         "curves": selectors.comparison_curves(comparison, run_a, run_b)})

    @extend_schema(responses={200: RunMetricSerializer(many=True)},
                   description="The run's metric series (name, step, value), e.g. nodes and tokens over time.")
    @action(detail=True, methods=["get"])
    def metrics(self, request, pk=None):
        run = self.get_object()
        page = self.paginate_queryset(run.metrics.order_by("name", "step").values("name", "step", "value"))
        return self.get_paginated_response(RunMetricSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("run", OpenApiTypes.INT, description="Run id."),
            OpenApiParameter("theorem", OpenApiTypes.INT, description="Theorem id (its history across runs)."),
            OpenApiParameter("status", OpenApiTypes.STR, description="proved, failed, error, ..."),
        ]
    )
)
class TheoremResultViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TheoremResultSerializer

    def get_queryset(self):
        queryset = TheoremResult.objects.select_related("theorem").order_by("run_id", "theorem__name")
        params = self.request.query_params
        for key in ("run", "theorem"):
            if (value := api_id(params, key)) is not None:
                queryset = queryset.filter(**{f"{key}_id": value})
        if result_status := params.get("status"):
            queryset = queryset.filter(status=result_status)
        return queryset
