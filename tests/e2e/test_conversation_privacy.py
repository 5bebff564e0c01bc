"""Only the patient and their care team reach a conversation, by page or websocket."""


import pytest
import websockets

from tests.support.browser import browser_login
from tests.support.cast import make_clinician, make_patient
from tests.support.chat_client import ChatSocket, login, run_async

pytestmark = pytest.mark.e2e

OPEN_SOCKET = """
async (path) => await new Promise((resolve) => {
  const ws = new WebSocket('ws://' + location.host + path);
  ws.onopen = () => resolve('open');
  ws.onclose = (e) => resolve('closed');
})
"""


@pytest.fixture
def stack(live_stack_factory, scripted_model):
    return live_stack_factory(scripted_model.base_url, worker=False)


def test_another_patient_is_refused_page_and_websocket(stack, browser_context):
    alice, bob = make_patient(), make_patient()
    path = f"/chat/{alice.conversation.public_id}/"
    page = browser_context.new_page()
    browser_login(page, stack.base_url, bob.username)
    response = page.goto(stack.base_url + path)
    assert response.status == 404
    page.goto(stack.base_url + "/chat/")
    assert page.evaluate(OPEN_SOCKET, f"/ws{path}") == "closed"
    assert page.evaluate(OPEN_SOCKET, f"/ws/chat/{bob.conversation.public_id}/") == "open"


def test_care_team_clinician_may_watch_and_others_may_not(stack, browser_context):
    alice = make_patient()
    carol, dave = make_clinician(patients=(alice,)), make_clinician()
    path = f"/chat/{alice.conversation.public_id}/"
    page = browser_context.new_page()
    browser_login(page, stack.base_url, carol.username, landing="/patients/")
    page.click(f"a[href='{path}']")
    assert page.locator(".readonly").is_visible()
    assert page.evaluate(OPEN_SOCKET, f"/ws{path}") == "open"
    other = browser_context.browser.new_context().new_page()
    browser_login(other, stack.base_url, dave.username, landing="/patients/")
    assert other.goto(stack.base_url + path).status == 404
    assert other.evaluate(OPEN_SOCKET, f"/ws{path}") == "closed"
    # Nor any page about her, nor an export of her record (the FHIR API with his browser session).
    conversation = alice.conversation.public_id
    for page_path in (f"/patients/{conversation}/summaries/", f"/follow-up/new/{conversation}/"):
        assert other.goto(stack.base_url + page_path).status == 404, page_path
    export = other.request.get(f"{stack.base_url}/fhir/Patient/{alice.fhir_id}/$everything")
    assert export.status in (403, 404) and export.json()["resourceType"] == "OperationOutcome"
    assert alice.fhir_id not in other.request.get(f"{stack.base_url}/fhir/Observation").text()


def test_unauthenticated_and_cross_origin_websockets_are_refused(stack):
    alice = make_patient()
    path = f"/ws/chat/{alice.conversation.public_id}/"

    async def attempt(cookies, origin=None):
        try:
            socket = await ChatSocket.open(stack.base_url, path, cookies, origin=origin)
        except websockets.InvalidStatus as exc:
            return exc.response.status_code
        await socket.close()
        return 101

    http = login(stack.base_url, alice.username, "correct-horse-battery")
    cookies = dict(http.cookies)
    assert run_async(attempt(None)) == 403
    assert run_async(attempt(cookies, origin="http://evil.example")) == 403
    assert run_async(attempt(cookies)) == 101


def test_a_socket_outliving_its_session_stores_nothing_and_is_closed(stack):
    """Logging out (or the session timing out) in another tab ends what an open socket may do."""
    from webapp.chat.models import Message

    alice = make_patient()
    http = login(stack.base_url, alice.username, "correct-horse-battery")
    path = f"/ws/chat/{alice.conversation.public_id}/"

    async def scenario():
        socket = await ChatSocket.open(stack.base_url, path, dict(http.cookies))
        await socket.say("before logging out")
        first = await socket.next_event()
        while first["type"] != "ack":
            first = await socket.next_event()
        http.post("/accounts/logout/", headers={"X-CSRFToken": http.cookies.get("csrftoken", ""),
                                                "Referer": f"{stack.base_url}/"})
        await socket.say("after logging out")
        event = await socket.next_event()
        while event["type"] not in ("error", "ack"):
            event = await socket.next_event()
        return event

    event = run_async(scenario())
    assert event["type"] == "error" and event["code"] == "session_expired"
    assert list(Message.objects.filter(conversation=alice.conversation).values_list("text", flat=True)) == [
        "before logging out"]
