"""The η/steps explorer driven as a person drives it: JupyterLab and the Voilà lecture app in headless Chromium.

Needs Debian's ``chromium`` and Playwright for Python (no browser download: Playwright is pointed at
/usr/bin/chromium). Skipped with a reason where either is missing, unless DDIM_TEACH_REQUIRE_BROWSER=1
(``.ci/run`` sets it), which turns the skip into a failure. Screenshots go to ``test-output/browser/``.
"""
import base64
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-output" / "browser"
CHROMIUM = os.environ.get("DDIM_TEACH_CHROMIUM", "/usr/bin/chromium")
ENV = "DDIM_TEACH_REQUIRE_BROWSER"
BIN = Path(sys.executable).parent
ERROR = re.compile(r"Traceback|\b[A-Z]\w*Error\b")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    require_or_skip(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (apt-get install chromium)", ENV)
    require_or_skip(_have_playwright(), "Playwright for Python is not installed (pip install playwright)", ENV)
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium-profile")),
                                                   executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                                   viewport={"width": 1400, "height": 1000})
        yield ctx
        ctx.close()


@pytest.fixture(scope="module")
def jupyter_env(tmp_path_factory):
    return _kernel_path(tmp_path_factory)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch copy of the notebooks: the test must not rewrite the committed ones.

    They keep their kernel, "ddim-teach", which `make` registers; the servers run from the same environment."""
    d = tmp_path_factory.mktemp("course")
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, d / nb.name)
    return d


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kernel_path(tmp_path_factory) -> dict:
    """An environment whose JUPYTER_PATH holds a "ddim-teach" kernelspec for this interpreter.

    JUPYTER_PATH comes before the user's kernels, so a stale "ddim-teach" registered by another clone
    (its venv since deleted) cannot take the servers' kernel away from this checkout."""
    d = tmp_path_factory.mktemp("jupyter-path")
    spec = d / "kernels" / "ddim-teach"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (ddim-teach)", "language": "python"}))
    return {**os.environ, "JUPYTER_PATH": os.pathsep.join(filter(None, [str(d), os.environ.get("JUPYTER_PATH")]))}


def _serve(cmd: list[str], port: int, log: Path, env: dict, ready=None, timeout: float = 60.0) -> subprocess.Popen:
    """Start a server and wait until it accepts connections (and `ready(url)` answers 200, if given).

    Voilà's "/" is not a readiness probe: every GET of it starts a kernel and runs the whole notebook."""
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=log.parent, env=env)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if ready is None:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                return proc
            with urllib.request.urlopen(ready, timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"port {port} did not answer within {timeout:.0f}s:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _explorer_state(page) -> dict:
    box = page.locator(".widget-interact").first
    # textContent, not innerText: JupyterLab 4 skips rendering cells outside the viewport (content-visibility),
    # and run-all can scroll the explorer away, after which innerText reads '' (seen once in CI).
    return {"readouts": [t.strip() for t in box.locator(".widget-readout").all_text_contents()],
            "img": box.locator("img").first.get_attribute("src"),
            "text": box.text_content()}


def _shown_setting(page) -> str:
    """The setting named inside the PNG the explorer's image shows now (its ``ddim-teach-setting`` text chunk)."""
    from PIL import Image
    data = page.evaluate("""async () => {
        const img = document.querySelector('.widget-interact img');
        const buf = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        let s = ''; for (const b of buf) s += String.fromCharCode(b);
        return btoa(s); }""")
    return Image.open(io.BytesIO(base64.b64decode(data))).text["ddim-teach-setting"]


def _move(page, slider, key: str, presses: int, setting: str, shot: str) -> dict:
    """Press a key on a slider's handle (``slider`` its index) or click a spacing or solver button (``slider``
    its label), wait for the explorer's status line for the new setting, then check that the picture on
    screen is the one of exactly that setting (the background worker computes other settings meanwhile)."""
    before = _explorer_state(page)
    if isinstance(slider, str):
        page.locator(".widget-interact .widget-toggle-buttons button", has_text=slider).click()
    else:
        handle = page.locator(".widget-interact .widget-slider .noUi-handle").nth(slider)
        handle.focus()
        for _ in range(presses):
            handle.press(key)
    page.locator(".widget-interact").first.get_by_text(f"{setting}: computed").wait_for(timeout=120_000)
    page.wait_for_function("""([old]) => {
        const img = document.querySelector('.widget-interact img');
        return img && img.complete && img.getAttribute('src') !== old; }""", arg=[before["img"]], timeout=60_000)
    after = _explorer_state(page)
    page.screenshot(path=str(SHOTS / shot), full_page=False)
    assert after["img"] != before["img"], "the figure did not change after moving the slider"
    assert _shown_setting(page) == setting, "the picture on screen is not the one of the setting just chosen"
    if not isinstance(slider, str):
        assert after["readouts"] != before["readouts"]
    return after


def _assert_no_errors(page, where: str) -> None:
    outputs = page.locator(".jp-OutputArea-output").all_text_contents()  # also cells scrolled out of view
    bad = [o[:300] for o in outputs if ERROR.search(o)]
    assert not bad, f"error output in {where}: {bad}"
    assert page.locator("[data-mime-type='application/vnd.jupyter.stderr'] :text('Traceback')").count() == 0


def _on_failure(page, name: str, log: Path | None = None) -> None:
    """Leave a screenshot, the visible dialogs and text, and the server's log behind, so that a failure in CI
    explains itself (pytest prints a failing test's captured output)."""
    try:
        page.screenshot(path=str(SHOTS / f"{name}_FAILED.png"))
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        if dialogs:
            print(f"open dialogs in {name}: {dialogs}")
        print(f"visible text in {name} (first 1500 characters):\n{page.inner_text('body')[:1500]}")
    except Exception as e:  # the page may be gone; the original failure matters more
        print(f"no failure screenshot for {name}: {e}")
    if log is not None and log.exists():
        print(f"last lines of {log.name}:\n{log.read_text()[-3000:]}")


def _eta_disabled(page) -> bool:
    """Whether the η slider (the first) is disabled: ipywidgets marks its noUiSlider ``disabled``."""
    return page.locator(".widget-interact .widget-slider").first.locator("[disabled]").count() > 0


def _drive_explorer(page, prefix: str) -> None:
    page.locator(".widget-interact .widget-slider .noUi-handle").nth(1).wait_for(timeout=240_000)
    page.locator(".widget-interact").first.get_by_text("DDIM, η = 0, S = 20, trailing, seed = 0: computed").wait_for(
        timeout=120_000)
    page.locator(".widget-interact").first.scroll_into_view_if_needed()
    start = _explorer_state(page)
    assert start["readouts"][:2] == ["0.00", "20"], start["readouts"]
    assert _shown_setting(page) == "DDIM, η = 0, S = 20, trailing, seed = 0"
    page.screenshot(path=str(SHOTS / f"{prefix}_0_start.png"))
    after_eta = _move(page, 0, "ArrowRight", 5, "DDIM, η = 0.5, S = 20, trailing, seed = 0", f"{prefix}_1_eta_0.5.png")
    assert after_eta["readouts"][:2] == ["0.50", "20"], after_eta["readouts"]
    # S one step at a time, as a lecturer steps it: the worker has computed S + 1 ahead, or is on it.
    for S in (21, 22):
        _move(page, 1, "ArrowRight", 1, f"DDIM, η = 0.5, S = {S}, trailing, seed = 0", f"{prefix}_2_steps_{S}.png")
    after_steps = _move(page, 1, "End", 1, "DDIM, η = 0.5, S = 100, trailing, seed = 0", f"{prefix}_3_steps_100.png")
    assert after_steps["readouts"][:2] == ["0.50", "100"], after_steps["readouts"]
    # The spacing pitfall at small S: leading spacing starts at t = 800 at S = 5.
    _move(page, 1, "Home", 1, "DDIM, η = 0.5, S = 2, trailing, seed = 0", f"{prefix}_4_steps_2.png")
    _move(page, 1, "ArrowRight", 3, "DDIM, η = 0.5, S = 5, trailing, seed = 0", f"{prefix}_5_steps_5.png")
    _move(page, "leading", "", 0, "DDIM, η = 0.5, S = 5, leading, seed = 0", f"{prefix}_6_leading.png")
    _move(page, "linspace", "", 0, "DDIM, η = 0.5, S = 5, linspace, seed = 0", f"{prefix}_7_linspace.png")
    # What the second order buys at S = 10: flip to DPM-Solver++(2M) and back. It has no η: the η slider is
    # disabled (keeping 0.5 for DDIM) and the setting says "no η".
    _move(page, "trailing", "", 0, "DDIM, η = 0.5, S = 5, trailing, seed = 0", f"{prefix}_8_trailing.png")
    _move(page, 1, "ArrowRight", 5, "DDIM, η = 0.5, S = 10, trailing, seed = 0", f"{prefix}_9_steps_10.png")
    assert not _eta_disabled(page)
    dpm = _move(page, "DPM-Solver++(2M)", "", 0, "DPM-Solver++(2M), no η, S = 10, trailing, seed = 0",
                f"{prefix}_10_dpm_solver.png")
    assert dpm["readouts"][:2] == ["0.50", "10"], dpm["readouts"]
    assert _eta_disabled(page), "the η slider is not disabled under DPM-Solver++(2M)"
    _move(page, "DDIM", "", 0, "DDIM, η = 0.5, S = 10, trailing, seed = 0", f"{prefix}_11_ddim.png")
    assert not _eta_disabled(page)


def test_explorer_in_jupyterlab(browser, course, jupyter_env, tmp_path):
    port, token = _free_port(), secrets.token_hex(24)  # a random token: the server is never left open
    cmd = [str(BIN / "jupyter"), "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.token={token}", "--ServerApp.password=", f"--ServerApp.root_dir={course}",
           "--LabApp.expose_app_in_browser=True", f"--LabApp.workspaces_dir={tmp_path}",
           f"--LabApp.user_settings_dir={tmp_path}",
           f"--LabApp.app_settings_dir={Path(__file__).resolve().parents[1] / 'i18n' / 'en' / 'jupyterlab'}"]  # as make lab
    env = {**jupyter_env, "JUPYTER_CONFIG_PATH": str(Path(__file__).resolve().parents[1] / "jupyter-config" / "student")}
    server = _serve(cmd, port, tmp_path / "lab.log", env,   # as make lab: the student's view
                    ready=f"http://127.0.0.1:{port}/api/status?token={token}")
    with pytest.raises(urllib.error.HTTPError, match="403"):  # without the token the API refuses
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=10)
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/lab/tree/05_x0_and_consistency.ipynb?token={token}")
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
        # Wait until the document is loaded and the kernel is connected and idle: run-all on a session
        # whose kernel is still connecting makes JupyterLab ask for a kernel instead of running.
        page.evaluate("""async () => { const w = window.jupyterapp.shell.currentWidget;
            await w.context.ready; await w.sessionContext.ready; }""")
        page.wait_for_function("""() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;
            return !s.hasNoKernel && s.kernelDisplayStatus === 'idle'; }""", timeout=180_000)
        # the first screen is the course: no "get notified about official Jupyter news?" prompt over it
        page.wait_for_timeout(3000)
        toasts = page.locator(".Toastify__toast").all_inner_texts()
        assert not toasts, f"the first screen shows a notification over the course: {toasts}"
        menus = page.locator(".lm-MenuBar-content").first.inner_text()
        assert "Nbgrader" not in menus and "Help" in menus, f"the student's menu bar: {menus!r}"
        page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
        run_all = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"  # fire, don't await
        page.evaluate(run_all)
        # If JupyterLab still asks for a kernel (it has, under load), accept its choice, as a person does.
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        handle = page.locator(".widget-interact .widget-slider .noUi-handle").nth(1)
        dialog.or_(handle).first.wait_for(timeout=240_000)
        if dialog.count():
            dialog.click()
            page.evaluate(run_all)
        _drive_explorer(page, "lab")
        # The last cell's line, freshly printed (outputs were cleared), means every cell ran.
        page.locator(".jp-OutputArea-output").get_by_text("this notebook ran in").wait_for(timeout=240_000)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)
        page.screenshot(path=str(SHOTS / "lab_3_end.png"))
        _assert_no_errors(page, "notebook 5 in JupyterLab")
    except Exception:
        _on_failure(page, "lab", tmp_path / "lab.log")
        raise
    finally:
        page.close()
        _stop(server)


def test_lecture_app_in_voila(browser, course, jupyter_env, tmp_path):
    port = _free_port()
    cmd = [str(BIN / "voila"), str(course / "lecture_explorer.ipynb"), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1"]
    server = _serve(cmd, port, tmp_path / "voila.log", jupyter_env)
    page = browser.new_page()
    try:
        # Voilà streams the page while the kernel runs the notebook; "load" fires only at the end.
        # Don't wait for it here: _drive_explorer waits for the explorer itself, with its own limits.
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit", timeout=120_000)
        _drive_explorer(page, "voila")
        assert "viz.explorer(" not in page.inner_text("body"), "Voilà showed a code cell"
        size = page.locator(".widget-interact .widget-readout").first.evaluate("e => getComputedStyle(e).fontSize")
        assert float(size.rstrip("px")) >= 20, f"slider readout font is {size}, too small to project"
        _assert_no_errors(page, "the Voilà lecture app")
    except Exception:
        _on_failure(page, "voila", tmp_path / "voila.log")
        raise
    finally:
        page.close()
        _stop(server)
