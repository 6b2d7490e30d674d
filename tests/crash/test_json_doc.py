"""`lastgasp json` against its documentation and against its own past.

1. formats/README.md's field tables ("`lastgasp json`: every field") and real output agree both ways: every
   key `json` prints is documented, with a type that admits the value printed (null only where the table
   says "or null"), and every documented key is printed for some test dump. The dumps: the fuzz corpus
   (synthetic: truncated, arm64, another producer's, Go streams of both versions, annotations) and real
   crashes of the crasher (a fault, an abort, annotations) and of the cgo program, read with and without
   debug info; for `json BUNDLE.zip`, a bundle holding a dump and an entry that is not one.
2. The output of the code before the JSON writer and the format version (json_before/NAME.json, printed by
   commit ca6a08a's `lastgasp json` with LASTGASP_DEBUGINFO=off from json_before/NAME.dmp, copies of the fuzz
   corpus) equals today's as a JSON value once "format" is taken out: the writer changed no key and no value.
   A deliberate change of the output must update these files, the table, and (if it removes, renames or
   changes a field) the version.
"""
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from pylib import readers as R

HERE = Path(__file__).resolve().parent
README = R.ROOT / "formats" / "README.md"
BEFORE = HERE / "json_before"
TYPES = {"string", "integer", "boolean", "object", "array", "null"}


def documented(name):
    """{path: set of types} from the table after `<!-- json-fields: name -->` in formats/README.md."""
    text = README.read_text()
    marker = f"<!-- json-fields: {name} -->"
    assert marker in text, f"no {marker} in {README}"
    rows = {}
    lines = text.split(marker, 1)[1].lstrip("\n").splitlines()
    assert lines[0].startswith("| field | type |"), lines[0]
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        m = re.fullmatch(r"`([^`]+)`", cells[0])
        assert m, f"a field cell that is not `a.b`: {line}"
        types = set(re.split(r"\s+or\s+", cells[1]))
        assert types <= TYPES, f"unknown type in {line}"
        assert ("null" in types) == (cells[3] != "never"), f"'or null' and the last column disagree: {line}"
        assert m.group(1) not in rows, f"documented twice: {m.group(1)}"
        rows[m.group(1)] = types
    assert rows, f"empty table after {marker}"
    return rows


def json_type(v):
    return {type(None): "null", dict: "object", list: "array", str: "string", bool: "boolean",
            int: "integer"}[type(v)]


def emitted(value, doc, opaque=(), path="", out=None):
    """{path: set of types} of value, naming a member of a documented `a.*` object `a.*`; the insides of the
    paths in opaque (documents of their own) are not walked."""
    out = {} if out is None else out
    if path:
        out.setdefault(path, set()).add(json_type(value))
    if path in opaque:
        return out
    if isinstance(value, dict):
        for k, v in value.items():
            child = f"{path}.*" if f"{path}.*" in doc else (f"{path}.{k}" if path else k)
            emitted(v, doc, opaque, child, out)
    elif isinstance(value, list):
        for v in value:
            emitted(v, doc, opaque, path + "[]", out)
    return out


def run_json(path, debuginfo):
    env = dict(os.environ, LASTGASP_DEBUGINFO="on" if debuginfo else "off")
    p = subprocess.run([str(R.CLI), "json", str(path)], capture_output=True, timeout=120, env=env)
    assert p.stdout.endswith(b"}\n"), p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    """The corpus, and real dumps of the crasher's fault, abort and annotations scenarios and the cgo program."""
    d = tmp_path_factory.mktemp("json-doc")
    out = sorted((R.ROOT / "tests" / "fuzz" / "corpus").glob("*.dmp"))
    for scenario, binary in (("null_write", "crasher"), ("abort", "crasher"), ("annotations", "crasher"),
                             ("-", "cgocrash")):
        run = R.run_crasher(scenario, binary=binary, tripwire=binary == "crasher")
        try:
            assert len(run.dumps) == 1, run.stderr
            out.append(Path(shutil.copy2(run.dumps[0], d / f"{binary}-{scenario}.dmp")))
        finally:
            R.cleanup(run)
    return out


def check_against_table(outputs, doc, opaque=()):
    seen = {}
    for name, value in outputs:
        for path, types in emitted(value, doc, opaque).items():
            assert path in doc, f"{name}: `{path}` is printed but not documented in {README}"
            assert types <= doc[path], f"{name}: `{path}` printed as {types}, documented as {doc[path]}"
            seen.setdefault(path, set()).update(types)
    missing = sorted(set(doc) - set(seen))
    assert not missing, f"documented but printed for no test dump: {missing}"


def test_every_field_of_json_is_documented_and_printed(dumps):
    doc = documented("lastgasp-json")
    outputs = []
    for dump in dumps:
        for debuginfo in (False, True):
            value = json.loads(run_json(dump, debuginfo))
            assert list(value)[0] == "format" and value["format"] == {"name": "lastgasp-json", "version": 1}
            outputs.append((f"{dump.name} (debug info {'on' if debuginfo else 'off'})", value))
    check_against_table(outputs, doc)


def test_every_field_of_json_bundle_is_documented_and_printed(tmp_path):
    bundle = tmp_path / "b.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        z.write(R.ROOT / "tests" / "fuzz" / "corpus" / "go.dmp", "go.dmp")
        z.writestr("junk.dmp", b"not a dump")
    value = json.loads(run_json(bundle, False))
    assert list(value)[0] == "format" and value["format"] == {"name": "lastgasp-json-bundle", "version": 1}
    check_against_table([("bundle", value)], documented("lastgasp-json-bundle"), opaque={"dumps[].dump"})
    # Each dump inside is the dump's own document (the table above), format and all.
    assert value["dumps"][0]["dump"] == json.loads(run_json(R.ROOT / "tests" / "fuzz" / "corpus" / "go.dmp", False))


@pytest.mark.parametrize("name", sorted(p.stem for p in BEFORE.glob("*.dmp")))
def test_output_is_the_same_json_value_as_before_the_version(name):
    before = json.loads((BEFORE / f"{name}.json").read_text())
    now = json.loads(run_json(BEFORE / f"{name}.dmp", False))
    assert now.pop("format") == {"name": "lastgasp-json", "version": 1}
    assert "format" not in before
    if name == "arm64":
        # SystemInfo says arm64 (0x8003) over amd64-sized contexts. The reader of that time decoded no arm64
        # context; the reader now decodes every arm64 layout (issue 12, formats/read/mdread_context.c), so the
        # registers and the warnings about their flags changed on purpose (the frames are the lastgasp stream's).
        arm64 = ["pc", "sp", "fp", "lr"] + [f"x{i}" for i in range(29)] + ["cpsr"]
        for t in now["threads"]:
            assert t["registers"] is None or list(t["registers"]) == arm64, t
        assert all("decoded as arm64 anyway" in w for w in now["warnings"]), now["warnings"]
        assert [t["registers"] for t in before["threads"]] == [None, None]
        for doc in (now, before):
            for t in doc["threads"]:
                t.pop("registers")
            doc.pop("warnings")
    assert now == before

