"""Form fields generated from a spec dataclass (RunSpec, IterationSpec): one field per setting, of its type,
with its meaning as help text. The form checks only what inputs need (a number is a number, JSON is JSON) and
leaves every rule to the spec, so a form and the API show the same errors; an empty field is left out, so the
spec's default applies."""

import dataclasses
import json
import typing
from collections.abc import Mapping
from typing import Any

from django import forms

from prover.engine.config import SearchConfig
from prover.engine.spec import field_type


class JSONObjectField(forms.CharField):
    """A JSON object typed into a text box (nested settings)."""

    widget = forms.Textarea(attrs={"rows": 3, "class": "mono"})

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Mapping):
            return json.dumps(value, indent=1, ensure_ascii=False) if value else ""
        return value

    def to_python(self, value) -> dict | None:
        text = (value or "").strip()
        if not text:
            return None
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError("must be a JSON object")
        return parsed


def number_field(annotation, **options) -> forms.Field:
    number = forms.FloatField if float in typing.get_args(annotation) or annotation is float else forms.IntegerField
    return number(required=False, **options)


def spec_field(f: dataclasses.Field, spec: type) -> forms.Field:
    meta, kind = f.metadata, field_type(f, spec)
    help_text = meta["help"]
    if kind is SearchConfig or typing.get_origin(kind) is dict:
        return JSONObjectField(help_text=help_text + " (JSON)")
    if typing.get_origin(kind) is tuple and meta["choices"]:
        return forms.MultipleChoiceField(choices=[(c, c) for c in meta["choices"]], required=False,
                                         widget=forms.CheckboxSelectMultiple, help_text=help_text)
    if kind == tuple[str, ...]:
        return forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               help_text=help_text + "; one per line or comma-separated")
    if meta["choices"]:
        return forms.ChoiceField(choices=[(c, c) for c in meta["choices"]], required=False, help_text=help_text)
    if kind is bool:
        return forms.BooleanField(required=False, help_text=help_text)
    if kind in (int, int | None):
        return number_field(int, help_text=help_text)
    return forms.CharField(required=False, help_text=help_text)


def spec_form_fields(spec: type, overrides: Mapping[str, forms.Field] | None = None,
                     skip: tuple[str, ...] = ()) -> dict[str, forms.Field]:
    """Form fields for every setting of `spec` but `skip`, `overrides` taking the place of generated ones."""
    overrides = overrides or {}
    return {f.name: overrides.get(f.name) or spec_field(f, spec) for f in dataclasses.fields(spec) if f.name not in skip}


def filled(cleaned: Mapping[str, Any], names) -> dict[str, Any]:
    """The settings a user filled in (empty ones left out, so the spec's defaults apply)."""
    return {name: cleaned[name] for name in names if cleaned.get(name) not in (None, "", [])}
