"""Request schemas generated from a spec dataclass (a run's RunSpec, an iteration's IterationSpec): one DRF field
per setting with its type, default and meaning, so the OpenAPI schema lists the real fields. Validation stays
the spec's own (the launch services'), so the API and the form give the same messages."""

import dataclasses
import typing

from rest_framework import serializers

from prover.engine.config import SETTING_HELP, SETTING_MAXIMA, SearchConfig
from prover.engine.spec import DEFAULT_STRATEGY, field_type


def schema_field(annotation, *, help_text: str, default=dataclasses.MISSING, required: bool = False,
                 minimum=None, maximum=None) -> serializers.Field:
    options = {"help_text": help_text, "required": required}
    bounds = {k: v for k, v in (("min_value", minimum), ("max_value", maximum)) if v is not None}
    if default is not dataclasses.MISSING:
        options["default"] = list(default) if isinstance(default, tuple) else default
    args = set(typing.get_args(annotation))
    if type(None) in args:
        options["allow_null"] = True
    if typing.get_origin(annotation) is tuple:
        child = serializers.IntegerField() if typing.get_args(annotation)[0] is int else serializers.CharField()
        return serializers.ListField(child=child, **options)
    if typing.get_origin(annotation) is dict:
        return serializers.DictField(**options)
    if annotation is bool:
        return serializers.BooleanField(**options)
    if annotation is int or args & {int} and float not in args and str not in args:
        return serializers.IntegerField(**options, **bounds)
    if annotation is float or float in args:
        return serializers.FloatField(**options, **bounds)
    if typing.get_origin(annotation) is typing.Literal:
        return serializers.ChoiceField(choices=list(typing.get_args(annotation)), **options)
    return serializers.CharField(allow_blank=True, **options)


def search_serializer() -> type[serializers.Serializer]:
    hints = typing.get_type_hints(SearchConfig)
    defaults = SearchConfig.for_strategy(DEFAULT_STRATEGY).to_dict()  # a run's default strategy, and its budgets
    fields = {f.name: schema_field(hints[f.name], help_text=SETTING_HELP[f.name], default=defaults[f.name],
                                   maximum=SETTING_MAXIMA.get(f.name))
              for f in dataclasses.fields(SearchConfig)}
    return type("SearchSettings", (serializers.Serializer,), {
        **fields, "__doc__": "Search settings (prover.engine.config.SearchConfig): the strategy's defaults apply to "
                             "what is left out; budgets (max_nodes, max_completions, max_rounds) differ by strategy."})


SearchSettings = search_serializer()


def spec_serializer(spec: type, name: str, doc: str) -> type[serializers.Serializer]:
    """A serializer documenting every field of `spec` (fields described with prover.engine.spec.setting)."""
    fields: dict[str, serializers.Field] = {}
    for f in dataclasses.fields(spec):
        meta, kind = f.metadata, field_type(f, spec)
        help_text = meta["help"] + (" (default: this deployment's)" if meta["deployment"] else "")
        default = dataclasses.MISSING if meta["deployment"] or meta["required"] else f.default
        if kind is SearchConfig:
            fields[f.name] = SearchSettings(required=False, help_text=help_text)
        elif meta["choices"] and typing.get_origin(kind) is not tuple:
            fields[f.name] = serializers.ChoiceField(choices=list(meta["choices"]), help_text=help_text,
                                                     required=False, **({} if default is dataclasses.MISSING
                                                                        else {"default": default}))
        elif meta["required"]:
            fields[f.name] = serializers.CharField(help_text=help_text, required=True)
        elif f.default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            fields[f.name] = schema_field(kind, help_text=help_text, default=f.default_factory())
        else:
            fields[f.name] = schema_field(kind, help_text=help_text, default=default, minimum=meta["minimum"],
                                          maximum=meta["maximum"])
    return type(name, (serializers.Serializer,), {**fields, "__doc__": doc})
