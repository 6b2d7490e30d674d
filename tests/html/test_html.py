"""`lastgasp html` in a real browser: real dumps (the crasher, Go programs, a bundle made by `collect`) rendered
to a page, loaded in headless Chromium over the DevTools protocol (pylib/browser.py), and checked as a person
would read them: the page loads with no console error (CSP violations count), fetches nothing, shows the crash
and the crashing function, keeps ten thousand goroutines to a few lines, and shows hostile strings from the
dump as text. Every page's screenshot is kept under build/test-artifacts/ (the path is printed: pytest -s).
"""
import html.parser
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pylib import browser as B
from pylib import readers as R

ROOT = Path(__file__).resolve().parents[2]

ARTIFACTS = ROOT / "build/test-artifacts"
GO_CORPUS = ROOT / "tests/go/corpus"
# Every tag the renderer writes. A tag outside this set on a page is markup that came from a dump.
OUR_TAGS = {"html", "head", "meta", "link", "title", "style", "body", "section", "div", "h1", "h2", "table", "pre",
            "tr", "th", "td", "code", "span", "b", "p", "details", "summary", "ul", "li", "a"}


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.bad_attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k.startswith("on") or (k in ("href", "src") and not (v or "").startswith(("#", "data:"))):
                self.bad_attrs.append((tag, k, v))


def render(target, out, *extra_ok):
    p = subprocess.run([str(R.CLI), "html", str(target)], capture_output=True, timeout=120)
    assert p.returncode in (0, *extra_ok), p.stderr.decode(errors="replace")
    out.write_bytes(p.stdout)
    t = Tags()
    t.feed(p.stdout.decode())
    assert set(t.tags) <= OUR_TAGS, set(t.tags) - OUR_TAGS
    assert not t.bad_attrs, t.bad_attrs
    return p.stdout.decode()


def shot(page, name):
    path = page.screenshot(ARTIFACTS / name)
    print(f"\nscreenshot: {path}")
    return path


def assert_clean(page):
    assert page.errors() == [], page.errors()
    assert page.eval("document.scripts.length") == 0
    # nothing fetched: no resource at all besides the document itself
    assert page.eval("performance.getEntriesByType('resource').length") == 0


@pytest.fixture(scope="module")
def browser():
    if not B.chromium():
        pytest.fail("chromium is not installed (bash tests/tools/deps.sh test installs it)")
    b = B.Browser()
    yield b
    b.close()


def test_the_harness_sees_errors(browser, tmp_path):
    """The checks below are not vacuous: a console error, an exception and a CSP violation are all seen."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">"
                   "<p>x</p><script>console.error('boom')</script>")
    assert any("Content Security Policy" in e for e in B.load(browser, bad).errors())
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom'); throw new Error('up')</script>")
    errs = B.load(browser, bad).errors()
    assert "console.error: boom" in errs and any(e.startswith("exception") for e in errs), errs


def test_c_dump(browser, tmp_path):
    run = R.run_crasher("thread_null")
    try:
        assert len(run.dumps) == 1, run.stderr
        page_file = tmp_path / "c.html"
        text = render(run.dumps[0], page_file)
    finally:
        R.cleanup(run)
    page = B.load(browser, page_file)
    assert_clean(page)
    h1 = page.eval("document.querySelector('h1').innerText")
    assert h1.startswith("SIGSEGV (SEGV_MAPERR) at 0x0 in crash_null_write"), h1
    assert page.eval("document.title").startswith("SIGSEGV in crash_null_write, crasher")
    body = page.eval("document.body.innerText")
    for want in ("Process\tcrasher", "PID\t", "Time\t", "Host\t", "Crashing thread", "thread_crash_main",
                 "Other threads (1)", "Modules ("):
        assert want in body, want
    # the crashing thread's frames are on screen without a click; the other thread is one line
    assert page.eval("document.getElementById('d-thread').nextElementSibling.offsetHeight") > 50
    assert page.eval("[...document.querySelectorAll('details')].filter(d => d.open).map(d => d.innerText)") == [
        page.eval("document.getElementById('d-modules').nextElementSibling.innerText")]  # modules only
    assert "crasher+0x" in text and "libc.so.6" in text
    shot(page, "html-c-dump.png")


def test_hostile_strings_are_text(browser, tmp_path):
    """The process name (the executable's file name) and the command line come from the crashed process: markup
    in them is shown as text, never parsed."""
    evil_dir = tmp_path / "bin"
    evil_dir.mkdir()
    exe = evil_dir / "<b>&'\"x"  # at most 15 bytes: the kernel's comm keeps the whole name
    shutil.copy2(R.TESTS / "crasher", exe)
    argv0 = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD"))}
    env.update(LD_PRELOAD=str(R.LIB), LASTGASP_DIR=str(dumps))
    p = subprocess.run([argv0, "null_write"], executable=str(exe), env=env, capture_output=True, timeout=60)
    assert p.returncode == -11, p.stderr
    (dump,) = dumps.glob("*.dmp")
    page_file = tmp_path / "evil.html"
    text = render(dump, page_file)
    assert "<script>" not in text and "<img" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = B.load(browser, page_file)
    assert_clean(page)
    assert page.eval("document.images.length") == 0
    assert page.eval("document.querySelectorAll('b').length") == 0  # "<b>" of the name stayed text
    body = page.eval("document.body.innerText")
    assert argv0 in body and "<b>&'\"x" in body
    shot(page, "html-hostile-strings.png")


def build_go(prog, out_dir):
    env = dict(os.environ, CGO_ENABLED="1")
    subprocess.run(["go", "build", "-o", str(out_dir / prog), "./" + prog], cwd=GO_CORPUS, env=env, check=True,
                   capture_output=True, timeout=600)
    return out_dir / prog


def crash_go(binary, args=(), dump_dir=None):
    """Run a Go program with lastgasp preloaded and GOTRACEBACK=crash (as test_go_fidelity does); its dump."""
    work = Path(tempfile.mkdtemp(prefix="lastgasp-html-go-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASTGASP_", "LD_PRELOAD", "GOTRACEBACK"))}
    env.update(LD_PRELOAD=str(R.LIB), LASTGASP_DIR=str(dump_dir or work), GOTRACEBACK="crash")
    p = subprocess.run([str(binary), *args], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=300)
    assert p.returncode < 0, p.stderr[-2000:]
    dumps = sorted(Path(dump_dir or work).glob("*.dmp"))
    assert len(dumps) >= 1, p.stderr[-2000:]
    return dumps[-1]


@pytest.fixture(scope="module")
def go_dump(tmp_path_factory):
    d = tmp_path_factory.mktemp("go")
    return crash_go(build_go("parked1000", d), dump_dir=d)


def test_go_dump(browser, go_dump, tmp_path):
    page_file = tmp_path / "go.html"
    text = render(go_dump, page_file)
    assert len(text) < 200_000, len(text)  # 1009 goroutines: grouping keeps the page small
    page = B.load(browser, page_file)
    assert_clean(page)
    assert page.eval("document.querySelector('h1').innerText").startswith("SIGABRT (SI_TKILL) in main.main")
    body = page.eval("document.body.innerText")
    src = str(GO_CORPUS / "parked1000/main.go")
    assert "Go\tgo1." in body and "Program\tlastgasp.test/corpus/parked1000" in body
    assert f"Crashed in\tmain.main {src}:" in body
    assert "Crashing goroutine 1 [running]" in body
    reason = page.eval("[...document.querySelectorAll('th')].find(t => t.innerText == 'Reason')"
                       ".nextElementSibling.innerText")
    assert reason.strip() == "panic: 1000 goroutines parked"  # as the runtime printed it, read from memory
    # the crashing goroutine's stack is expanded: main.main with its file and line, on screen
    crash_table = "document.getElementById('d-goroutine').nextElementSibling"
    assert page.eval(crash_table + ".offsetHeight") > 50
    assert src in page.eval(crash_table + ".innerText")
    summaries = page.eval("[...document.querySelectorAll('summary')].map(s => s.innerText)")
    for state, fn in (("chan receive", "main.receive"), ("select", "main.choose"), ("sleep", "time.Sleep")):
        assert any(s.startswith(f"200 goroutines [{state}] in {fn}") for s in summaries), summaries
    assert len(summaries) < 40, len(summaries)
    # a group opens to its ids and its shared stack
    page.eval("[...document.querySelectorAll('details')].find(d => d.innerText.includes('[select]')).open = true")
    opened = page.eval("[...document.querySelectorAll('details')].find(d => d.open && d.innerText.includes("
                       "'[select]')).innerText")
    assert "main.choose" in opened and "parked1000/main.go:" in opened
    shot(page, "html-go-dump.png")


def test_ten_thousand_goroutines(browser, tmp_path):
    subprocess.run(["make", "-s", "build/tests/gocrash"], cwd=ROOT, check=True, capture_output=True, timeout=600)
    dump = crash_go(R.TESTS / "gocrash", ["10000", "0", "1"])
    page_file = tmp_path / "g10k.html"
    text = render(dump, page_file)
    shutil.rmtree(dump.parent, ignore_errors=True)
    assert len(text) < 200_000, len(text)
    page = B.load(browser, page_file)
    assert_clean(page)
    summaries = page.eval("[...document.querySelectorAll('summary')].map(s => s.innerText)")
    assert any(s.startswith("10000 goroutines [chan receive] in main.park") for s in summaries), summaries
    page.eval("[...document.querySelectorAll('details')].find(d => d.innerText.includes('10000 gorout')).open = true")
    assert "and 9900 more" in page.eval("document.body.innerText")


def test_bundle(browser, go_dump, tmp_path):
    d = tmp_path / "dumps"
    d.mkdir()
    for scenario in ("null_write", "divzero"):
        run = R.run_crasher(scenario)
        try:
            assert len(run.dumps) == 1, run.stderr
            shutil.copy2(run.dumps[0], d)
        finally:
            R.cleanup(run)
    shutil.copy2(go_dump, d)
    bundle = tmp_path / "b.zip"
    p = subprocess.run([str(R.CLI), "collect", str(d), "-o", str(bundle)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    names = sorted(x.name for x in d.glob("*.dmp"))
    page_file = tmp_path / "bundle.html"
    render(bundle, page_file)
    page = B.load(browser, page_file)
    assert_clean(page)
    rows = page.eval("[...document.querySelectorAll('table.grid')[0].rows].slice(1).map(r => r.innerText)")
    assert [r.split("\t")[1] for r in rows] == names, rows
    assert any("\tSIGFPE\tcrash_divzero\tcrasher\t" in r for r in rows), rows
    assert any("\tSIGABRT\tmain.main\tparked1000\t" in r for r in rows), rows
    # every index link leads to its dump's section, titled with the dump's name
    links = page.eval("[...document.querySelectorAll('table.grid a')].map(a => a.getAttribute('href'))")
    assert links == [f"#d{i}" for i in range(1, 4)]
    for i, name in enumerate(names, 1):
        assert page.eval(f"document.getElementById('d{i}').querySelector('h2').innerText") == name
    # one dump of the bundle renders exactly as the dump file itself
    one = subprocess.run([str(R.CLI), "html", f"{bundle}:{names[0]}"], capture_output=True)
    assert one.returncode == 0 and one.stdout == subprocess.run([str(R.CLI), "html", str(d / names[0])],
                                                                capture_output=True).stdout
    shot(page, "html-bundle.png")
