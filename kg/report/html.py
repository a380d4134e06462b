"""The report as one standalone HTML file: kg/report/templates/report.html rendered by Jinja2 with
autoescape on (model labels and catalog texts are untrusted). It loads nothing at view time: the
style is inlined and allowed by its hash in a Content-Security-Policy meta element that otherwise
forbids every resource (default-src 'none'), there is no script, and the data-flow diagram is the
inline SVG of kg.diagram (which escapes every text itself). Official catalog pages are links."""

import base64
import hashlib
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from kg.ontology import stride_names
from kg.report import RATINGS, anchor


def csp_hash(text) -> str:
    """The CSP source expression allowing exactly this inline text."""
    return "sha256-" + base64.b64encode(hashlib.sha256(str(text).encode("utf-8")).digest()).decode("ascii")


def percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("kg.report"), autoescape=True,
                      undefined=StrictUndefined)
    env.filters["csp_hash"] = csp_hash
    return env


def render(data: dict) -> str:
    labels = {e["id"]: e["label"] for e in data["components"] + data["flows"]}
    return _environment().get_template("report.html").render(
        data=data, kinds=data["threats"], labels=labels, anchor=anchor, pct=percent, ratings=RATINGS,
        stride_names=stride_names(), svg=Markup(data["diagram"]["svg"]))  # kg.diagram escapes every text it draws
