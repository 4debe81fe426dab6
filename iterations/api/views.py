import dataclasses

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from jobs.api import as_validation_error
from jobs.errors import ServiceError

from .. import selectors
from ..models import Iteration
from ..services import cancel_iteration, launch_iteration, resume_iteration
from .serializers import IterationLaunchSerializer, IterationSerializer, SuccessTableSerializer


class IterationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Iterations of expert iteration, with their steps (each step's job and what it produced)."""

    serializer_class = IterationSerializer
    queryset = Iteration.objects.select_related("owner").prefetch_related("steps")

    @extend_schema(request=IterationLaunchSerializer, responses={201: IterationSerializer},
                   description="Launch an iteration (researcher role). Errors are keyed like the config, e.g. "
                               "`search.max_nodes` or `eval_dataset`, as the form shows them.")
    def create(self, request, *args, **kwargs):
        form = IterationLaunchSerializer(data=request.data, partial=True)
        form.fields["config"] = serializers.JSONField()  # checked by the iteration spec, with the form's messages
        form.is_valid(raise_exception=True)
        if "config" not in form.validated_data:
            raise ValidationError({"config": ["the iteration's settings are required"]})
        parent = None
        if form.validated_data.get("parent") is not None:
            parent = Iteration.objects.filter(pk=form.validated_data["parent"]).first()
            if parent is None:
                raise ValidationError({"parent": [f"no iteration {form.validated_data['parent']}"]})
        try:
            iteration = launch_iteration(user=request.user, config=form.validated_data["config"],
                                         name=form.validated_data.get("name", ""), parent=parent)
        except ServiceError as exc:
            raise as_validation_error(exc) from None
        return Response(IterationSerializer(iteration).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: IterationSerializer},
                   description="Cancel: the running step's job is cancelled and no further step starts.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        try:
            iteration = cancel_iteration(user=request.user, iteration=self.get_object())
        except ServiceError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        return Response(IterationSerializer(iteration).data)

    @extend_schema(request=None, responses={200: IterationSerializer},
                   description="Resume a failed iteration from its first unfinished step.")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        try:
            iteration = resume_iteration(user=request.user, iteration=self.get_object())
        except ServiceError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        return Response(IterationSerializer(iteration).data)

    @extend_schema(responses={200: SuccessTableSerializer},
                   description="BurnQED's success-metrics table (docs/expert-iteration.md) across the iteration's chain and its A/B/C "
                               "attribution, each figure with the job that produced it and its compute.")
    @action(detail=True, methods=["get"])
    def table(self, request, pk=None):
        iteration = self.get_object()
        chain = selectors.chain_of(iteration)
        rows = [{"metric": row["target"].key, "label": row["target"].label, "red_line": row["target"].red_line,
                 "cells": [{**dataclasses.asdict(c["figure"]), "grade": c["grade"], "target": c["target"]}
                           for c in row["cells"]]} for row in selectors.success_table(chain)]
        attribution = [{"from": a["from"], "to": a["to"], "question": a["question"], "delta": a["delta"],
                        "start": dataclasses.asdict(a["start"]), "end": dataclasses.asdict(a["end"])}
                       for a in (selectors.attribution(iteration) if iteration.number else [])]
        return Response({"iterations": [it.pk for it in chain], "rows": rows, "attribution": attribution})
