"""The iteration launch form, derived from the iteration spec (iterations/spec.py): datasets and checkpoints are
picked from what the service holds, never typed as paths."""

from django import forms

from jobs.models import Artifact
from jobs.spec_forms import filled, spec_form_fields
from prover.models import Dataset

from .collapse import collapsed_ids, default_policy
from .spec import IterationSpec


class ArtifactChoice(forms.ModelChoiceField):
    def label_from_instance(self, artifact) -> str:
        flag = " — collapsed embeddings" if artifact.pk in self.collapsed else ""
        return f"#{artifact.pk} {artifact.name}{flag}"


class ArtifactChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, artifact) -> str:
        return f"#{artifact.pk} {artifact.name}"


class IterationLaunchForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        meta = IterationSpec.__dataclass_fields__

        def dataset(name: str) -> forms.Field:
            return forms.ModelChoiceField(queryset=Dataset.objects.order_by("name"), to_field_name="name",
                                          help_text=meta[name].metadata["help"])

        base = ArtifactChoice(queryset=Artifact.objects.filter(kind=Artifact.Kind.LORA), required=False,
                              help_text=meta["base_adapter"].metadata["help"])
        base.collapsed = collapsed_ids()
        if not self.is_bound and "base_adapter" not in self.initial:
            self.initial["base_adapter"] = getattr(default_policy(), "pk", None)
        seed = ArtifactChoices(queryset=Artifact.objects.filter(kind=Artifact.Kind.SFT_DATA), required=False,
                               help_text=meta["seed_data"].metadata["help"])
        self.fields.update(spec_form_fields(IterationSpec, {
            "train_dataset": dataset("train_dataset"), "eval_dataset": dataset("eval_dataset"),
            "base_adapter": base, "seed_data": seed}))

    def to_config(self) -> dict:
        data = self.cleaned_data
        config = filled(data, IterationSpec.__dataclass_fields__)
        for name in ("train_dataset", "eval_dataset"):
            config[name] = data[name].name
        if data.get("base_adapter"):
            config["base_adapter"] = data["base_adapter"].pk
        config["seed_data"] = [a.pk for a in data.get("seed_data") or []]
        return config

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            field = key.split(".")[0]
            for message in messages:
                self.add_error(field if field in self.fields else None, message if field == key else f"{key}: {message}")

    @staticmethod
    def initial_from_config(config: dict) -> dict:
        spec = IterationSpec.from_mapping(config)
        initial = spec.to_dict()
        initial["configs"] = list(spec.configs)
        return initial
