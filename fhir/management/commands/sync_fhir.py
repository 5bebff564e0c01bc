"""Pull a patient's record from another FHIR server, or push one to it; idempotent, with a report."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fhir.access import SYSTEM
from fhir.errors import FhirError
from fhir.remote import RemoteServer, pull_patient, push_patient
from fhir.store import Repository


class Command(BaseCommand):
    help = "pull or push one patient's record from/to a remote FHIR server (OAuth client credentials or a token)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("direction", choices=["pull", "push"])
        parser.add_argument("--remote", required=True, help="the remote FHIR base URL, e.g. https://ehr/fhir/")
        parser.add_argument("--patient", required=True, help="the Patient id (remote id to pull, local id to push)")
        parser.add_argument("--token", help="a bearer token for the remote")
        parser.add_argument("--token-url", help="the remote's OAuth token endpoint (client credentials)")
        parser.add_argument("--client-id")
        parser.add_argument("--client-secret")
        parser.add_argument("--scope", default="system/*.read system/*.write")

    def handle(self, *args, direction: str, remote: str, patient: str, token: str | None, token_url: str | None,
               client_id: str | None, client_secret: str | None, scope: str, **options) -> None:
        try:
            if token_url:
                server = RemoteServer.with_client_credentials(remote, token_url, client_id or "",
                                                              client_secret or "", scope)
            else:
                server = RemoteServer(remote, token)
            # Sync is the server's own act, run by an operator; it is audited under the "sync" channel.
            repo = Repository(SYSTEM, channel="sync")
            if direction == "pull":
                self.stdout.write(f"pulled Patient/{patient}: {pull_patient(repo, server, patient).summary()}")
            else:
                self.stdout.write(f"pushed Patient/{patient}: {push_patient(repo, server, patient).summary()}")
        except FhirError as error:
            raise CommandError(error.diagnostics) from None
