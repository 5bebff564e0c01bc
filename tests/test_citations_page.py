"""The citations page shows the passage an agent reply cites, to anyone logged in; the chat history links to it."""

import numpy
import pytest

from agent.evidence.corpus import Passage, passage_id
from tests.support.cast import PASSWORD
from webapp.chat.models import Author, Message

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]

PASSAGE_ID = passage_id("x/y", "", 0)


def make_passage(**fields) -> Passage:
    return Passage(**{
        "id": PASSAGE_ID,
        "text": "Use ICS-formoterol as needed.\nReview after 4 weeks.",
        "title": "Global Strategy for Asthma Management",
        "section_key": "x/y",
        "section_path": "Track 1 > Step 1",
        "organisation": "GINA",
        "year": 2024,
        "evidence_type": "guideline",
        "doi": "10.1000/gina.2024",
        "url": "https://doi.org/10.1000/gina.2024",
        "source": "open-medicine 0.12.0",
        "licence": "MIT (open-medicine)",
        "recognised": True,
        **fields,
    })


@pytest.fixture
def index(settings, tmp_path):
    from agent.evidence.index_local import LocalIndex

    settings.ELASTICSEARCH_URL = ""
    settings.EVIDENCE_INDEX_PATH = str(tmp_path / "evidence.sqlite3")

    def store(passage: Passage) -> None:
        LocalIndex(tmp_path / "evidence.sqlite3").upsert([passage], numpy.zeros((1, 384), dtype="float32"))

    store(make_passage())
    return store


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.mark.parametrize("name", ["alice", "carol"])
def test_it_shows_the_passage_and_its_source(client, cast, index, name):
    login(client, cast[name])
    response = client.get(f"/evidence/{PASSAGE_ID}/")
    assert response.status_code == 200
    page = response.content.decode()
    for shown in ("Global Strategy for Asthma Management", "Track 1 &gt; Step 1", "GINA", "2024", "guideline",
                  '<a href="https://doi.org/10.1000/gina.2024" rel="noopener noreferrer">10.1000/gina.2024</a>',
                  "MIT (open-medicine)", "open-medicine 0.12.0",
                  "Use ICS-formoterol as needed.<br>Review after 4 weeks."):
        assert shown in page, shown


@pytest.mark.parametrize("citation_id", ["ev-0000000000", "ev-XYZ", "ev-3f9a2c1b7d0", "anything"])
def test_it_answers_404_for_an_unknown_or_malformed_id(client, cast, index, citation_id):
    login(client, cast["alice"])
    response = client.get(f"/evidence/{citation_id}/")
    assert response.status_code == 404
    assert "is not in the evidence index" in response.content.decode()


def test_it_answers_404_when_no_index_was_built(client, cast, settings, tmp_path):
    settings.ELASTICSEARCH_URL = ""
    settings.EVIDENCE_INDEX_PATH = str(tmp_path / "none.sqlite3")
    login(client, cast["alice"])
    assert client.get(f"/evidence/{PASSAGE_ID}/").status_code == 404


def test_it_requires_login(client, index):
    response = client.get(f"/evidence/{PASSAGE_ID}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_escapes_the_passage_text(client, cast, index):
    index(make_passage(text="<script>alert(1)</script>", url="javascript:alert(2)"))
    login(client, cast["alice"])
    page = client.get(f"/evidence/{PASSAGE_ID}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "javascript:" not in page  # only web addresses become links


def test_the_chat_history_links_an_agents_citations_and_never_a_patients(client, cast):
    alice = cast["alice"]
    other = "ev-" + "a" * 10
    Message.objects.create(conversation=alice.conversation, author=Author.PATIENT, text=f"me [{PASSAGE_ID}]")
    Message.objects.create(conversation=alice.conversation, author=Author.AGENT,
                           text=f"<b>Use</b> it [{PASSAGE_ID}], see [{other}] and [{PASSAGE_ID}] [ev-12]")
    login(client, alice)
    page = client.get("/chat/").content.decode()

    def link(citation_id, number):
        return (f'<sup class="citation"><a href="/evidence/{citation_id}/" target="_blank" rel="noopener" '
                f'title="Source">[{number}]</a></sup>')

    assert f"me [{PASSAGE_ID}]</span>" in page
    assert (f"&lt;b&gt;Use&lt;/b&gt; it {link(PASSAGE_ID, 1)}, see {link(other, 2)} and {link(PASSAGE_ID, 1)} "
            "[ev-12]</span>") in page
