import json

from django import forms

from jobs.models import Artifact

from .models import TrainingRun

# What the launch form starts from, per kind: the settings a researcher changes most (the rest keep defaults).
# What to train on is picked as inputs (trajectories, SFT data), not typed here.
STARTING_CONFIGS = {
    "sft": {"model_path": "", "max_steps": 1000, "learning_rate": 2e-5, "lora_r": 32},
    "ebm": {"model_path": "", "steps": 2000},
    "joint": {"model_path": "", "max_steps": 1000, "contrastive_weight": 0.1, "negatives": 3, "lr_lora": 2e-5,
              "lr_ebm": 3e-5, "lora_r": 64, "probe_every": 500},
    "probes": {"model_path": "", "adapter": "", "heads": {}},
}


class TrainingLaunchForm(forms.Form):
    kind = forms.ChoiceField(choices=TrainingRun.Kind.choices)
    name = forms.CharField(max_length=200, required=False)
    base_checkpoint = forms.ModelChoiceField(queryset=Artifact.objects.filter(kind__in=Artifact.CHECKPOINT_KINDS),
                                             required=False)
    inputs = forms.ModelMultipleChoiceField(
        queryset=Artifact.objects.filter(kind__in=(Artifact.Kind.TRAJECTORIES, Artifact.Kind.SFT_DATA)), required=False,
        help_text="what to train on: search runs' trajectories, SFT data (they fill the loop's file settings)")
    config = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
                             help_text="JSON: the loop's settings (training/sft SFTConfig, training/ebm EbmTrainConfig, training/joint JointConfig, probes: model_path, adapter, heads, probe_set)")

    def clean_config(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["config"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("must be a JSON object")
        return value
