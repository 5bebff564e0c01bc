"""Running agent turns in tests: a client for a model server, and a patient message waiting for its turn."""

from __future__ import annotations

from agent.model.client import ModelClient, ModelConfig
from webapp.actions.messages import do_send_patient_message
from webapp.chat.models import Turn, TurnStatus


def client_for(server, max_tokens: int = 64, timeout: float = 10) -> ModelClient:
    return ModelClient(ModelConfig(base_url=server.base_url, model="scripted", api_key="x", timeout=timeout,
                                   connect_timeout=2, max_retries=0, max_tokens=max_tokens, temperature=0))


def new_turn(patient, text: str = "My knee hurts") -> Turn:
    do_send_patient_message(patient, patient.conversation, text)
    return Turn.objects.get(conversation=patient.conversation, status=TurnStatus.PENDING)
