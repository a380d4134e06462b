"""Validation and reasoning of an uploaded model off the server's threads: in a child process forked
from the server, killed after UPLOAD_TIMEOUT seconds or when it needs UPLOAD_MEMORY_MB beyond the
server's memory, so no upload holds a server thread's CPU (or the interpreter lock) for long. The
child hands back the model and what the fast reasoner inferred. The owlrl fallback (minutes on a big
model) is refused, naming the construct, unless UPLOAD_OWLRL_FALLBACK is set: kg.model.lane already
refuses the owl: and rdfs: terms that would need it, this is the second wall."""

import faulthandler
import multiprocessing
import os
import resource
import warnings

from pyoxigraph import DefaultGraph, RdfFormat, Store

from kg.analysis import model_ntriples, ontology_ntriples
from kg.errors import InputError, Problem
from kg.model.load import Model, parse_model
from kg.model.source import decode
from kg.reasoning import FallbackWarning, Inference, infer

_FORK = multiprocessing.get_context("fork")


def prepare(name: str, data: bytes, timeout: float, memory_mb: int, fallback: bool) -> tuple[Model, Inference]:
    """The valid model and its inference, or InputError: its problems (cited under `name`), or why
    the work was stopped."""
    receive, send = _FORK.Pipe(duplex=False)
    child = _FORK.Process(target=_child, args=(send, name, data, memory_mb, fallback), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise InputError(Problem(name, f"validating and reasoning over this model took longer than {timeout:g} s, "
                                           "the limit for an upload; split it or check it with `threatkg validate`"))
        kind, answer = receive.recv()
    except EOFError:   # the child died without an answer: a failed allocation aborts the engine
        kind, answer = "memory", None
    finally:
        child.kill()
        child.join()
        receive.close()
    if kind == "memory":
        raise InputError(Problem(name, f"validating and reasoning over this model needed more than {memory_mb} MB, "
                                       "the limit for an upload; split it or check it with `threatkg validate`"))
    if kind == "problems":
        raise InputError(answer)
    if kind == "error":
        raise RuntimeError(f"upload worker: {answer}")
    model, asserted, everything, engine, seconds, notes = answer
    store = Store()
    store.load(everything, RdfFormat.N_TRIPLES)
    return model, Inference(store, _triples(asserted), engine, seconds, notes)


def _child(send, name: str, data: bytes, memory_mb: int, fallback: bool) -> None:
    """Answer over `send`: ("ok", parts of the model and inference), ("problems", [Problem]),
    ("memory", None) or ("error", what went wrong). The engine's own messages stay off the server's stderr."""
    try:
        faulthandler.disable()   # an engine that aborts on a failed allocation is reported by the parent
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        with open("/proc/self/statm") as statm:
            limit = int(statm.read().split()[0]) * resource.getpagesize() + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        model = parse_model(decode(data, name), name)
        with warnings.catch_warnings():
            warnings.simplefilter("default" if fallback else "error", FallbackWarning)
            inference = infer(ontology_ntriples() + model_ntriples(model))
        asserted = b"".join(str(t).encode() + b" .\n" for t in inference.asserted)
        everything = inference.store.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph())
        send.send(("ok", (model, asserted, everything, inference.engine, inference.seconds, inference.notes)))
    except InputError as err:
        send.send(("problems", err.problems))
    except FallbackWarning as err:
        needs = str(err).removesuffix(": falling back to owlrl")
        send.send(("problems", [Problem(name, f"{needs}, and uploads are not reasoned with the slow owlrl fallback "
                                              "on this server (UPLOAD_OWLRL_FALLBACK)")]))
    except (MemoryError, SystemError):   # SystemError: a C extension whose allocation failed
        send.send(("memory", None))
    except Exception as err:   # noqa: BLE001 - a bug: the server logs it and answers 500
        send.send(("error", f"{type(err).__name__}: {err}"))


def _triples(ntriples: bytes) -> set:
    store = Store()
    store.load(ntriples, RdfFormat.N_TRIPLES)
    return {quad.triple for quad in store}
