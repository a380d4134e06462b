"""What every refusal of a hostile input must be: exit 2 (CLI) or a 4xx (web), a message naming the
file and the element or field, and no traceback, internal error or detail of the server."""

import re

from click.testing import CliRunner

from kg.cli import main

LEAKS = re.compile(r'Traceback|internal error|File "[^"]*", line \d+|(?<![\w.])/(usr|root|home|work|opt|srv)/|site-packages|'
                   r'\b\w+(Error|Exception):', re.IGNORECASE)


def cli(*args, env=None):
    """`threatkg ARGS` in this process (the CLI's own last line of defence included)."""
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def said(text: str, names) -> None:
    """Each of `names` is in `text`; a tuple among them: one of its alternatives is."""
    for name in names:
        alternatives = name if isinstance(name, tuple) else (name,)
        assert any(a in text for a in alternatives), (name, text[-3000:])


def assert_refused(result, *names):
    """Exit 2; stderr names every one of `names` (the file, the element, the field or what is wrong)."""
    output = result.output
    assert result.exit_code == 2, (result.exit_code, output[-2000:])
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]
    said(result.stderr, names)


def assert_refused_page(response, *names, status=(400, 404, 405, 413, 415, 422)):
    """A 4xx naming every one of `names`, with no traceback, Python or server detail."""
    body = response.get_data(as_text=True)
    assert response.status_code in status, (response.status_code, body[:2000])
    assert not LEAKS.search(body), LEAKS.search(body).group(0)
    said(body, names)
