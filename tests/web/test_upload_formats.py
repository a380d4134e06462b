"""The web upload takes a model of each other tool's format (kg.importers) as a file, detected by its
content, and serves the imported system."""

import io
import re

import pytest

from tests.web.conftest import make_app

SOURCES = ["otm/EXAMPLE.json", "otm/EXAMPLE.yaml", "threat-dragon/v2-threat-model.json", "threagile/threagile-example.yaml",
           "owasp-threat-model-library/husky-ai-threat-model.json", "pytm/tests-input.json",
           "drawio/drawio-basic-example.drawio", "drawio/aws_minimal.drawio.xml"]


@pytest.fixture(scope="module")
def client(catalog_home):
    return make_app([], catalog_home, MAX_UPLOADS_PER_CLIENT=50).test_client()


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/upload").get_data(as_text=True)).group(1)


@pytest.mark.parametrize("source", SOURCES)
def test_each_format_uploads_and_is_served(client, shared_models, source):
    path = shared_models / source
    data = {"csrf_token": _token(client), "model": (io.BytesIO(path.read_bytes()), path.name)}
    response = client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    overview = client.get(response.headers["Location"])
    assert overview.status_code == 200 and "Top open risks" in overview.get_data(as_text=True)
