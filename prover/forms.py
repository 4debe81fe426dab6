"""The dashboard's forms: importing a dataset, and launching a run.

The launch form is derived from the run spec (prover.engine.spec.RunSpec): one form field per spec field,
the most used search settings as fields of their own, every other search setting as JSON. Search fields
start empty, and empty means the strategy's own default; the form checks only what HTML inputs need (a
number is a number) and leaves every rule to the spec, so the form and the API show the same errors.
"""

import json
import typing

from django import forms

from jobs.spec_forms import filled, number_field, spec_form_fields
from prover.engine.config import STRATEGIES, SearchConfig
from prover.engine.spec import DEFAULT_STRATEGY, RunSpec, spec_fields
from theorem_data.formats import FORMATS

from .models import Dataset

# The search settings with a field of their own; the rest go in the JSON box.
COMMON_SEARCH = ("strategy", "max_nodes", "max_depth", "timeout_s", "num_candidates", "max_completions", "temperature")


class DatasetImportForm(forms.Form):
    file = forms.FileField(help_text="JSON or JSONL, UTF-8.")
    format = forms.ChoiceField(choices=[("auto", "guess from the file"), *[(f, f) for f in FORMATS]], initial="auto")
    name = forms.CharField(max_length=200)
    source = forms.CharField(max_length=500, required=False)
    licence = forms.CharField(max_length=200, required=False)
    lean_version = forms.CharField(max_length=100, required=False)
    mathlib_version = forms.CharField(max_length=100, required=False)
    notes = forms.CharField(widget=forms.Textarea, required=False)


def _search_help(name: str) -> str:
    by_strategy = {s: SearchConfig.for_strategy(s).to_dict()[name] for s in STRATEGIES}
    defaults = set(map(repr, by_strategy.values()))
    shown = ", ".join(f"{'none' if v is None else v} for {s}" for s, v in by_strategy.items()) if len(defaults) > 1 \
        else ("none" if by_strategy["hybrid"] is None else str(by_strategy["hybrid"]))
    return f"empty: the strategy's default ({shown})"


def _search_field(name: str) -> forms.Field:
    if name == "strategy":
        return forms.ChoiceField(choices=[(s, s) for s in STRATEGIES], help_text="how the tree is searched")
    annotation = typing.get_type_hints(SearchConfig)[name]
    return number_field(annotation, label=name.replace("_", " "), help_text=_search_help(name))


class RunLaunchForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"), to_field_name="name",
                                         help_text=RunSpec.__dataclass_fields__["dataset"].metadata["help"])
        for name, field in spec_form_fields(RunSpec, {"dataset": dataset}).items():
            if name != "search":
                self.fields[name] = field
                continue
            for setting in COMMON_SEARCH:
                self.fields[setting] = _search_field(setting)
            self.fields["search_extra"] = forms.CharField(
                required=False, widget=forms.Textarea(attrs={"rows": 3}), label="other search settings",
                help_text='JSON, e.g. {"alpha": 0.7, "ebm_min_depth": 2}; every setting of the engine\'s SearchConfig')

    def clean_search_extra(self) -> dict:
        text = self.cleaned_data["search_extra"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("must be a JSON object")
        return value

    def to_config(self) -> dict:
        """The run config the form describes, in the API's shape, for the launch service to validate."""
        data = self.cleaned_data
        # A field left empty is left out: the spec's default (or the deployment's) applies.
        config = {name: value for name, value in filled(data, [f.name for f in spec_fields()]).items()
                  if name != "search"}
        config["dataset"] = data["dataset"].name
        config["search"] = {**data["search_extra"], **{k: data[k] for k in COMMON_SEARCH if data.get(k) is not None}}
        return config

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            field = key.removeprefix("search.")
            target = field if field in self.fields else ("search_extra" if key.startswith("search.") else None)
            for message in messages:
                self.add_error(target, f"{key}: {message}" if target != field else message)

    @staticmethod
    def initial_for_new(deployment: dict) -> dict:
        """A new run starts from the spec's defaults (and the deployment's, where it has them)."""
        initial = {f.name: deployment.get(f.name, f.default) for f in spec_fields()
                   if f.name not in ("dataset", "search", "theorems", "limit")}
        initial["strategy"] = DEFAULT_STRATEGY
        return initial

    @staticmethod
    def initial_from_config(config: dict) -> dict:
        """Every setting of a stored run, so that launching the form unchanged launches the same run."""
        known = {f.name for f in spec_fields()}
        spec = RunSpec.from_mapping({k: v for k, v in config.items() if k in known})
        search = spec.search.to_dict()
        initial = {f.name: getattr(spec, f.name) for f in spec_fields() if f.name != "search"}
        initial["theorems"] = "\n".join(spec.theorems)
        defaults = SearchConfig.for_strategy(spec.search.strategy).to_dict()
        extra = {}
        for name, value in search.items():
            if name in COMMON_SEARCH and value is not None:
                initial[name] = value
            elif value != defaults[name]:  # an empty field would mean the default: say it in the JSON
                extra[name] = value
        initial["search_extra"] = json.dumps(extra, indent=1, ensure_ascii=False) if extra else ""
        return initial
