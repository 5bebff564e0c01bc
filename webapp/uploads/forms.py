from django import forms

from perception.models import Hint


class UploadForm(forms.Form):
    file = forms.FileField(allow_empty_file=True)
    hint = forms.ChoiceField(choices=Hint.choices, required=False)
    client_id = forms.CharField(max_length=64, required=False)


class ConfirmForm(forms.Form):
    """Patients confirm what was read; clinicians verify or reject, all or the ticked results."""
    level = forms.ChoiceField(choices=[("patient-confirmed", "These are right"),
                                       ("clinician-verified", "Verify"), ("rejected", "Reject")])
    resource = forms.MultipleChoiceField(required=False, choices=())

    def __init__(self, *args, resources: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [(r, r) for r in resources]
