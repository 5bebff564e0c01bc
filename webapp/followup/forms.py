"""What a clinician types about check-ins, validated and turned into CheckInKinds (on the patient's clock)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings

from webapp.accounts.models import User
from webapp.actions.followup import check_in_kind
from webapp.followup.local_time import EARLIEST_HOUR, LATEST_HOUR, at_local
from webapp.followup.resources import CheckInKind


class CheckInForm(forms.Form):
    """A new plan with one kind of check-in: "blood pressure every 3 days for 2 weeks, from tomorrow"."""

    topic = forms.CharField(max_length=100, help_text="What it is about, e.g. blood pressure")
    question = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="What the patient is asked")
    in_days = forms.IntegerField(min_value=0, max_value=90, label="First check-in in (days)")
    every_days = forms.IntegerField(min_value=0, max_value=30, required=False, label="Then every (days; 0: once)")
    for_days = forms.IntegerField(min_value=1, max_value=180, required=False, label="For (days)")
    hour = forms.IntegerField(min_value=EARLIEST_HOUR, max_value=LATEST_HOUR - 1, required=False,
                              label="At (hour, patient's time)")
    reason = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    approve = forms.BooleanField(required=False, label="Approve now")

    def kind(self, patient: User) -> CheckInKind:
        data = self.cleaned_data
        every = data.get("every_days") or 0
        times = max(1, ((data.get("for_days") or 1) - 1) // every + 1) if every else 1
        hour = data.get("hour") if data.get("hour") is not None else settings.CHECKIN_LOCAL_HOUR
        return check_in_kind(patient, data["topic"], data["question"], data["in_days"], every, times, hour)


class ScheduleForm(forms.Form):
    """One kind of check-in of a proposed plan, as the approving clinician may edit it (dates on the patient's
    calendar)."""

    topic = forms.CharField(max_length=100)
    question = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    first_date = forms.DateField(label="First on", widget=forms.DateInput(attrs={"type": "date"}))
    hour = forms.IntegerField(min_value=EARLIEST_HOUR, max_value=LATEST_HOUR - 1, label="At (hour)")
    every_days = forms.IntegerField(min_value=0, max_value=30, label="Every (days; 0: once)")
    times = forms.IntegerField(min_value=1, max_value=60, label="Times")


def schedule_forms(kinds: list[CheckInKind], zone: ZoneInfo, data=None) -> list[ScheduleForm]:
    forms_ = []
    for i, kind in enumerate(kinds):
        local = kind.first.astimezone(zone)
        forms_.append(ScheduleForm(data, prefix=f"a{i}", initial={
            "topic": kind.topic, "question": kind.question, "first_date": local.date(), "hour": local.hour,
            "every_days": kind.every_days, "times": kind.count if kind.every_days else 1}))
    return forms_


def kinds_from_forms(forms_: list[ScheduleForm], zone: ZoneInfo) -> list[CheckInKind]:
    kinds = []
    for form in forms_:
        data = form.cleaned_data
        first = at_local(data["first_date"], data["hour"], 0, zone)
        kinds.append(CheckInKind(topic=data["topic"], question=data["question"], first=first,
                                 every_days=data["every_days"], count=data["times"] if data["every_days"] else 1))
    return kinds


