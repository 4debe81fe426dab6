from django import forms

from training.data.formats import FORMATS


class DatasetImportForm(forms.Form):
    file = forms.FileField(help_text="JSON or JSONL, UTF-8.")
    format = forms.ChoiceField(choices=[("auto", "guess from the file"), *[(f, f) for f in FORMATS]], initial="auto")
    name = forms.CharField(max_length=200)
    source = forms.CharField(max_length=500, required=False)
    licence = forms.CharField(max_length=200, required=False)
    lean_version = forms.CharField(max_length=100, required=False)
    mathlib_version = forms.CharField(max_length=100, required=False)
    notes = forms.CharField(widget=forms.Textarea, required=False)
