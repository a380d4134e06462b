"""The hostile-input corpus, generated here (never copied files): each Case is one hostile input as data
(its bytes, or a special file to make), with the fragment its refusal must say. The test modules of
this package feed the cases to each input path and check the refusal and the unchanged state."""

import base64
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from kg.model.source import MAX_BYTES

DIGITS = "9" * 5000
LISTENER = "http://127.0.0.1:9/hostile"      # nothing listens there: a fetch would fail, visibly


@dataclass(frozen=True)
class Case:
    """One hostile input: `data` written to `file`, or `special` made instead; its refusal says `says`
    (or one of them, when the input path reads it in one of several ways)."""

    name: str
    says: str | tuple
    data: bytes = b""
    file: str = "model.yaml"
    special: str | None = None     # fifo, dev-zero, sparse, directory, symlink-out
    element: str | None = None     # the element or field the message must name

    def make(self, folder: Path) -> Path:
        """The input as a path in `folder` (a fresh folder per case)."""
        path = folder / self.file
        if self.special == "dev-zero":
            return Path("/dev/zero")
        if self.special == "fifo":
            os.mkfifo(path)
        elif self.special == "sparse":
            path.touch()
            os.truncate(path, MAX_BYTES + 1)
        elif self.special == "directory":
            path.mkdir()
        else:
            path.write_bytes(self.data)
        return path

    @property
    def text(self) -> str | None:
        """The input as pasted text, when it is text at all."""
        try:
            return self.data.decode("utf-8") if self.special is None and b"\x00" not in self.data else None
        except UnicodeDecodeError:
            return None


def model(component_id="logs", label="Logs", extra="", system="hostile") -> bytes:
    """A small valid ThreatKG model with one component whose id, label or extra lines are hostile."""
    return (f"system:\n  id: {system}\n  name: Hostile\nzones:\n  - id: z\n    kind: internal\n"
            f"components:\n  - id: {component_id}\n    label: {label}\n    kinds: [log-store]\n    zone: z\n"
            + extra).encode("utf-8")


def alias_bomb(key="description") -> bytes:
    laughs = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return ("system:\n  id: x\n  " + key + ":\n    " + "\n    ".join(laughs) + "\n").encode()


XML_BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
            + ']>\n<mxfile><diagram name="p">&lol9;</diagram></mxfile>\n')
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE mxfile [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       '<mxfile><diagram name="p"><mxGraphModel><root><mxCell id="0"/>'
       '<mxCell id="1" value="&xxe;" vertex="1"/></root></mxGraphModel></diagram></mxfile>\n')
XXE_REMOTE = f'<?xml version="1.0"?>\n<!DOCTYPE mxfile SYSTEM "{LISTENER}/dtd">\n<mxfile><diagram name="p"/></mxfile>\n'


def compressed_bomb() -> bytes:
    """A draw.io page compressed as draw.io does (deflate, base64): 1 KB inflating past the limit."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(b"<" + b"a" * (MAX_BYTES + 1024)) + deflate.flush()
    return (f'<mxfile><diagram name="p">{base64.b64encode(body).decode()}</diagram></mxfile>\n').encode()


TTL = ("@prefix tm: <https://w3id.org/threatkg/ont#> .\n@prefix dcterms: <http://purl.org/dc/terms/> .\n"
       "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n")
SYSTEM_TTL = '<https://w3id.org/threatkg/model/hostile> a tm:System ; dcterms:identifier "hostile" .\n'


def model_cases() -> list[Case]:
    """Hostile model files: every model command, `systems add`, the upload, the importers read them."""
    return [
        Case("yaml alias bomb", "YAML aliases expand to", alias_bomb()),
        Case("yaml deep nesting", "nest", b"system: " + b"[" * 5000 + b"]" * 5000 + b"\n"),
        Case("yaml deep mappings", "nest", b"system: " + b"{a: " * 2000 + b"1" + b"}" * 2000 + b"\n"),
        Case("nul bytes", "binary file", model() + b"\x00\x00"),
        Case("non-utf-8", "not UTF-8 text", model(label="caf\xe9").replace("é".encode(), b"\xe9")),
        Case("utf-16", "binary file", model().decode().encode("utf-16")),
        Case("homoglyph id", "id must match", model(component_id="l\u043egs"), element="l\u043egs"),
        Case("rtl override id", "id must match", model(component_id="\u202esgol"), element="\u202esgol"),
        Case("zero-width id", "id must match", model(component_id="lo\u200bgs"), element="lo\u200bgs"),
        Case("integer of 5000 digits", "an integer of 5,000 characters is too long", model(label=DIGITS)),
        Case("integer of 5000 digits in json", "an integer of 5,000 digits is too long",
             b'{"otmVersion": "0.2.0", "project": {"name": "p", "id": ' + DIGITS.encode() + b"}}", "model.json"),
        Case("list where text is expected", "name", model().replace(b"name: Hostile", b"name: [a, b]")),
        Case("map where text is expected", "label", model(label="{a: b}"), element="logs"),
        Case("list as system id", "system", model(system="[a, b]")),
        Case("unknown capec id", "CAPEC-99999999", model(extra="controls:\n  - id: c\n    kind: access-control\n"
                                                                "    protects: [logs]\n"
                                                                "    mitigates: [CAPEC-99999999]\n"), element="c"),
        Case("unknown atlas id", "AML.T9999", model(extra="controls:\n  - id: c\n    kind: access-control\n"
                                                          "    protects: [logs]\n    mitigates: [AML.T9999]\n"),
             element="c"),
        Case("unknown asvs version", "v9.9.9-9.9.9", model(extra="requirements:\n  - id: v9.9.9-9.9.9\n")),
        Case("turtle owl:imports remote", "owl#imports",
             (TTL + SYSTEM_TTL + f"<https://w3id.org/threatkg/model/hostile> owl:imports <{LISTENER}> .\n").encode(),
             "model.ttl"),
        Case("turtle @base remote", "a model may only state facts about its own system",
             (f"@base <{LISTENER}/> .\n" + TTL + SYSTEM_TTL + '<x> dcterms:identifier "x" .\n').encode(), "model.ttl"),
        Case("json-ld remote @context", ("unknown section '@context'", "not a model of another tool"),
             f'{{"@context": "{LISTENER}/context.jsonld", "@id": "x", "system": 1}}'.encode(), "model.json"),
        Case("xml billion laughs (draw.io)", "refused unsafe XML", XML_BOMB.encode(), "model.drawio"),
        Case("xml external entity (draw.io)", "refused unsafe XML", XXE.encode(), "model.drawio"),
        Case("xml remote dtd (draw.io)", "no shape ThreatKG can read", XXE_REMOTE.encode(), "model.drawio"),
        Case("draw.io compressed bomb", "limit", compressed_bomb(), "model.drawio"),
        Case("huge file", f"the limit for a model is {MAX_BYTES:,}", special="sparse"),
        Case("fifo", "not a regular file", special="fifo"),
        Case("/dev/zero", "not a regular file", special="dev-zero"),
        Case("directory", "is a directory", special="directory"),
        Case("empty", "file is empty", b""),
    ]


def threagile_including(target: str) -> bytes:
    return (f"threagile_version: 1.0.0\ntitle: t\nincludes:\n  - {target}\ntechnical_assets: {{}}\n").encode()


def include_cases() -> list[Case]:
    """Threagile `includes:` that leave the source's folder (the symlink is made by the test)."""
    outside, nothing = "outside the source file's folder", "a model read from no file (an upload, a stored version)"
    return [Case("include with ..", (outside, nothing), threagile_including("../outside.yaml"), "threagile.yaml"),
            Case("include absolute", ("an absolute path", nothing), threagile_including("/etc/passwd"),
                 "threagile.yaml"),
            Case("include symlink out", (outside, nothing), threagile_including("link.yaml"), "threagile.yaml",
                 special="symlink-out"),
            Case("include itself", ("cycle", nothing), threagile_including("threagile.yaml"), "threagile.yaml")]


def config_cases(kind: str) -> list[Case]:
    """Hostile YAML configuration files (a profile, enrichment.yaml): `kind` names the file."""
    return [
        Case(f"{kind} alias bomb", "YAML aliases expand to", alias_bomb("ids"), f"{kind}.yaml"),
        Case(f"{kind} deep nesting", "nest", b"ids: " + b"[" * 5000 + b"]" * 5000 + b"\n", f"{kind}.yaml"),
        Case(f"{kind} nul bytes", "binary file", b"id: x\x00\n", f"{kind}.yaml"),
        Case(f"{kind} non-utf-8", "not UTF-8", b"id: caf\xe9\n", f"{kind}.yaml"),
        Case(f"{kind} integer of 5000 digits", "too long", f"id: {DIGITS}\n".encode(), f"{kind}.yaml"),
        Case(f"{kind} huge file", "limit", special="sparse", file=f"{kind}.yaml"),
        Case(f"{kind} fifo", "not a regular file", special="fifo", file=f"{kind}.yaml"),
    ]


def digest(folder: Path) -> str:
    """A digest of every name, link and file content under `folder`: equal digests, unchanged state."""
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        sha.update(str(path.relative_to(folder)).encode())
        if path.is_symlink():
            sha.update(os.readlink(path).encode())
        elif path.is_file():
            sha.update(hashlib.sha256(path.read_bytes()).digest())
    return sha.hexdigest()
