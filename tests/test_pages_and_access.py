"""Pages: who lands where, who may open which conversation, and what the chat page shows."""

import pytest

from tests.support.cast import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/chat/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name,landing", [("alice", "/chat/"), ("carol", "/patients/"), ("root", "/admin/")])
def test_each_role_lands_on_its_page(client, cast, name, landing):
    login(client, cast[name])
    assert client.get("/")["Location"] == landing


def test_the_chat_page_shows_the_patients_emergency_number_and_history(client, cast):
    from webapp.actions.messages import do_send_patient_message

    alice = cast["alice"]
    do_send_patient_message(alice, alice.conversation, "<b>my knee</b> hurts")
    login(client, alice)
    page = client.get("/chat/").content.decode()
    assert "call <strong>999</strong>" in page  # alice is in the UK
    assert "&lt;b&gt;my knee&lt;/b&gt; hurts" in page  # escaped, never raw HTML
    login(client, cast["bob"])
    assert "call <strong>911</strong>" in client.get("/chat/").content.decode()


def test_a_patient_cannot_open_another_patients_conversation(client, cast):
    login(client, cast["bob"])
    assert client.get(f"/chat/{cast['alice'].conversation.public_id}/").status_code == 404


def test_only_the_care_team_may_open_a_conversation(client, cast):
    path = f"/chat/{cast['alice'].conversation.public_id}/"
    login(client, cast["carol"])
    assert client.get(path).status_code == 200
    assert cast["alice"].username in client.get("/patients/").content.decode()
    login(client, cast["dave"])
    assert client.get(path).status_code == 404
    assert cast["alice"].username not in client.get("/patients/").content.decode()


def test_an_ehr_client_has_no_pages(client, cast):
    login(client, cast["ehr"])
    assert client.get("/chat/").status_code == 403
    assert "API only" in client.get("/").content.decode()


def test_older_history_is_reachable(client, cast, settings):
    from webapp.actions.messages import do_send_patient_message
    from webapp.chat import views

    alice = cast["alice"]
    for i in range(views.HISTORY_LIMIT + 5):
        do_send_patient_message(alice, alice.conversation, f"message {i}")
    login(client, alice)
    page = client.get("/chat/").content.decode()
    assert "message 0<" not in page and f"message {views.HISTORY_LIMIT + 4}<" in page
    earlier = client.get("/chat/?before=" + str(alice.conversation.messages.order_by("id")[5].id)).content.decode()
    assert "message 0<" in earlier and "message 4<" in earlier and "message 5<" not in earlier
