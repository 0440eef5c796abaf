"""The HTML report in a real headless browser (Chromium from the system packages).

Skipped, with the reason, when no Chromium is installed (``apt-get install chromium``). The
page must load without console output or script errors, every image must decode
(``naturalWidth > 0``, checked by the page's own script, whose verdict is read from the DOM),
and a screenshot is taken. A deliberately broken page checks that the test can fail.
"""

import os
import re
import shutil
import struct
import subprocess

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on PATH (Debian: apt-get install -y chromium); browser test skipped"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]


def _chromium(*args, tmp):
    env = dict(os.environ, HOME=str(tmp))  # a fresh profile, nothing shared with a user's browser
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def load(page, tmp):
    """(DOM after the page's scripts ran, console lines about the page)."""
    r = _chromium(
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", page.as_uri(), tmp=tmp
    )
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    return r.stdout, console


def check(dom):
    m = re.search(r'<div id="page-check"([^>]*)>', dom)
    assert m, "the page's check element is missing"
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', m.group(1)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from resiliopt.cli import main

    root = tmp_path_factory.mktemp("browser")
    assert main(["audit", "beijing", "--seed", "1", "--out", str(root / "audit"), "--report"]) == 0
    args = ["--scenarios", "4", "--days", "61", "--workers", "1", "--no-progress", "--report"]
    assert (
        main(["compare", "beijing", "--variants", "none,buildings", "--out", str(root / "cmp"), *args]) == 0
    )
    return root


@pytest.mark.parametrize("which, n_images", [("audit", 0), ("cmp/none", 3), ("cmp", 2)])
def test_report_renders_in_chromium(runs, which, n_images, tmp_path):
    page = runs / which / "report.html"
    dom, console = load(page, tmp_path)
    assert console == [], f"console output: {console}"
    c = check(dom)
    assert c == {"status": "ok", "images": str(n_images), "broken": "0", "errors": "0"}, c
    shot = tmp_path / "shot.png"
    _chromium("--window-size=1280,2400", f"--screenshot={shot}", page.as_uri(), tmp=tmp_path)
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280, 2400)
    keep = os.environ.get("RESILIOPT_SCREENSHOTS")  # a folder to keep the screenshots in
    if keep:
        shutil.copy(shot, os.path.join(keep, which.replace("/", "-") + ".png"))


def test_the_check_catches_a_broken_page(runs, tmp_path):
    """A report with one corrupted image and one script error: the check says so."""
    html = (runs / "cmp" / "report.html").read_text()
    html = html.replace('src="data:image/png;base64,', 'src="data:image/png;base64,AAAA', 1)
    html = html.replace("</main>", "<script>nosuch();</script></main>", 1)
    page = tmp_path / "bad.html"
    page.write_text(html)
    dom, console = load(page, tmp_path)
    assert any("nosuch" in ln for ln in console)
    assert check(dom) == {"status": "failed", "images": "2", "broken": "1", "errors": "1"}


# ----------------------------------------------------------------------------- the operations page
@pytest.fixture(scope="module")
def ops_pages(tmp_path_factory):
    """The operations pages of ``infra restore`` and ``emergency replay`` on the toy case."""
    from test_report_ops import make_replay, make_restore

    from resiliopt.cli import main

    root = tmp_path_factory.mktemp("ops-browser")
    pages = {"restore": make_restore(root), "replay": make_replay(root)}
    for d in pages.values():
        assert main(["report", str(d)]) == 0
    return {k: d / "report.html" for k, d in pages.items()}


def _map_attrs(dom):
    m = re.search(r'<svg id="ops-map"([^>]*)>', dom)
    assert m, "the map is missing"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', m.group(1)))


@pytest.mark.parametrize("which, n_images", [("restore", 1), ("replay", 0)])
def test_ops_page_renders_in_chromium(ops_pages, which, n_images, tmp_path):
    page = ops_pages[which]
    dom, console = load(page, tmp_path)
    assert console == [], f"console output: {console}"
    assert check(dom) == {"status": "ok", "images": str(n_images), "broken": "0", "errors": "0"}
    attrs = _map_attrs(dom)
    assert attrs["frame"] == "0" and int(attrs["n-failed"]) > 0  # the script ran on the first frame
    shot = tmp_path / "shot.png"
    _chromium("--window-size=1280,2400", f"--screenshot={shot}", page.as_uri(), tmp=tmp_path)
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280, 2400)
    keep = os.environ.get("RESILIOPT_SCREENSHOTS")
    if keep:
        shutil.copy(shot, os.path.join(keep, f"ops-{which}.png"))


@pytest.mark.parametrize("which", ["restore", "replay"])
def test_moving_the_slider_changes_the_map(ops_pages, which, tmp_path):
    """A scripted move of the slider (and, for the replay, of the run selector) as a user's
    drag fires it: the map's classes, counts, crews and period markers follow the frame."""
    from test_report_ops import ops_data

    html = ops_pages[which].read_text()
    data = ops_data(html)
    run = len(data["runs"]) - 1  # the last run: the selector moves too where there are several
    frames = data["runs"][run]["frames"]
    k = next(i for i, f in enumerate(frames) if f["states"].count("f") != frames[0]["states"].count("f"))
    move = (
        "<script>(function () {"
        'var sel = document.getElementById("ops-run");'
        f'if (sel) {{ sel.selectedIndex = {run}; sel.dispatchEvent(new Event("change")); }}'
        f'var s = document.getElementById("ops-frame"); s.value = "{k}";'
        's.dispatchEvent(new Event("input"));'
        "})();</script></body>"
    )
    page = tmp_path / "moved.html"
    page.write_text(html.replace("</body>", move, 1))
    dom, console = load(page, tmp_path)
    assert console == [], f"console output: {console}"
    assert check(dom)["status"] == "ok"
    attrs = _map_attrs(dom)
    want = frames[k]["states"]
    assert attrs["frame"] == str(k) and attrs["run"] == data["runs"][run]["id"]
    assert attrs["n-failed"] == str(want.count("f")) != str(frames[0]["states"].count("f"))
    codes = {int(i): c for c, i in re.findall(r'class="el st-(\w)" data-i="(\d+)"', dom)}
    assert len(codes) == len(want) and "".join(codes[i] for i in sorted(codes)) == want
    assert dom.count('<g class="crew">') == len(frames[k]["crews"]) == int(attrs["n-crews"])
    marks = re.findall(r"<line[^>]*class=\"pmark\"[^>]*>", dom)
    assert marks
    for m in marks:
        a = dict(re.findall(r'([a-z0-9-]+)="([^"]*)"', m))
        assert float(a["x1"]) == pytest.approx(float(a["data-x0"]) + k * float(a["data-dx"]), abs=0.06)
