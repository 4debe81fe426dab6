"""The launch form: common fields up front, any other engine setting as JSON. It builds the same config the
API takes and shows the launch service's field errors where they belong."""

import json

from django import forms

from prover.engine.config import STRATEGIES, SearchConfig

from .models import Dataset
from .run_config import LEAN_BACKENDS

# Form field -> where it goes in the run config ("search.x" for engine settings).
SEARCH_FIELDS = ("strategy", "max_nodes", "max_depth", "timeout_s", "num_candidates", "max_completions", "temperature")


class RunLaunchForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"), to_field_name="name")
    split = forms.CharField(required=False, help_text="e.g. test; empty for all")
    theorems = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="theorem names, one per line or comma-separated; empty for all")
    limit = forms.IntegerField(required=False, min_value=1, help_text="at most this many theorems")
    strategy = forms.ChoiceField(choices=[(s, s) for s in STRATEGIES], initial="best_first")
    max_nodes = forms.IntegerField(required=False, initial=600)
    max_depth = forms.IntegerField(initial=25)
    timeout_s = forms.FloatField(initial=600, label="timeout per theorem (s)")
    num_candidates = forms.IntegerField(initial=32, help_text="tactics sampled per expansion (best_first)")
    max_completions = forms.IntegerField(required=False)
    temperature = forms.FloatField(initial=0.8)
    search_extra = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="other search settings",
                                   help_text='JSON, e.g. {"alpha": 0.7, "ebm_min_depth": 2}')
    policy_url = forms.CharField()
    encoder_url = forms.CharField(required=False)
    ebm_path = forms.CharField(required=False, label="EBM checkpoint", help_text="empty: LLM-only search")
    lean = forms.ChoiceField(choices=[(b, b) for b in LEAN_BACKENDS])
    lean_workers = forms.IntegerField(initial=1, min_value=1)
    concurrency = forms.IntegerField(initial=1, min_value=1)
    chunk_size = forms.IntegerField(initial=4, min_value=1, help_text="theorems per worker task")

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
        data = self.cleaned_data
        search = {**data["search_extra"], **{k: data[k] for k in SEARCH_FIELDS if data.get(k) is not None}}
        return {
            "dataset": data["dataset"].name, "split": data["split"], "theorems": data["theorems"],
            "limit": data["limit"], "search": search, "policy_url": data["policy_url"],
            "encoder_url": data["encoder_url"], "ebm_path": data["ebm_path"], "lean": data["lean"],
            "lean_workers": data["lean_workers"], "concurrency": data["concurrency"], "chunk_size": data["chunk_size"],
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            field = key.removeprefix("search.")
            target = field if field in self.fields else ("search_extra" if key.startswith("search.") else None)
            for message in messages:
                self.add_error(target, f"{key}: {message}" if target != field else message)

    @classmethod
    def initial_from_config(cls, config: dict) -> dict:
        search = dict(config.get("search", {}))
        initial = {k: search.pop(k) for k in SEARCH_FIELDS if k in search}
        theorems = config.get("theorems") or []
        initial.update({
            "dataset": config.get("dataset"), "split": config.get("split", ""), "theorems": "\n".join(theorems),
            "limit": config.get("limit"), "policy_url": config.get("policy_url"), "encoder_url": config.get("encoder_url"),
            "ebm_path": config.get("ebm_path"), "lean": config.get("lean"), "lean_workers": config.get("lean_workers"),
            "concurrency": config.get("concurrency"), "chunk_size": config.get("chunk_size"),
        })
        # Only what differs from the strategy's defaults goes in the JSON box.
        defaults = SearchConfig.for_strategy(initial.get("strategy", "best_first")).to_dict()
        extra = {k: v for k, v in search.items() if defaults.get(k) != v}
        initial["search_extra"] = json.dumps(extra, indent=1) if extra else ""
        return initial
