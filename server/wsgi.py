"""The WSGI entry for any WSGI server: `waitress-serve --listen 127.0.0.1:8000 kg.server_data.wsgi:app`
(or gunicorn `kg.server_data.wsgi:app`). It serves the model files named in $THREATKG_MODELS
(separated by the path separator) and, when $THREATKG_STORE is set, every system of that store, as
`threatkg serve` does."""

import os

from kg.store import store_url
from kg.web import create_app

app = create_app([p for p in os.environ.get("THREATKG_MODELS", "").split(os.pathsep) if p],
                 {"STORE": store_url(None)})
