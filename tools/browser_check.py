"""Opens a maskgate report.html in Debian's headless Chromium through ChromeDriver (WebDriver
over HTTP, Python's standard library only) and checks it as a reader would see it:

- a screenshot that is not blank (saved beside the report as --screenshot names);
- the verdict, one row per criterion (data-criterion) and every gallery image present;
- every image loaded (complete, naturalWidth > 0);
- nothing created from user text: no <script>, no element with an on* attribute, and the
  number of <img> elements is exactly what the report declares;
- no network request: every resource the page loaded is a file inside the report's folder;
- no SVG text clipped: with every section open, each chart text's box lies inside its <svg>;
- folds that work: the page's height with every section folded, and each section adding to it
  when opened alone; every contents link names a section.

Prints one JSON object with what it found; exits 1 when a check fails, 2 when the browser
cannot be driven.
Usage: python browser_check.py REPORT.html [--screenshot OUT.png] [--expect-images N]
       [--expect-criteria N]
"""
import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1600", "--hide-scrollbars"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--screenshot")
    ap.add_argument("--expect-images", type=int)
    ap.add_argument("--expect-criteria", type=int)
    a = ap.parse_args()
    report = Path(a.report).resolve()
    folder = report.parent
    driver = shutil.which("chromedriver")
    browser = shutil.which("chromium")
    if not driver or not browser:
        print(json.dumps({"error": "chromium and chromedriver are needed (Debian: chromium chromium-driver)"}))
        return 2
    port = free_port()
    proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    profile = tempfile.mkdtemp(prefix="maskgate-browser-")
    found, failures = {}, []
    try:
        for _ in range(100):
            try:
                call(port, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": browser, "args": FLAGS + [f"--user-data-dir={profile}"]}}}}
        session = call(port, "POST", "/session", caps)["value"]["sessionId"]
        base = f"/session/{session}"
        call(port, "POST", f"{base}/url", {"url": report.as_uri()})

        def js(script):
            return call(port, "POST", f"{base}/execute/sync", {"script": script, "args": []})["value"]

        # Wait until every image has finished (loaded or failed).
        for _ in range(100):
            if js("return Array.from(document.images).every(i => i.complete)"):
                break
            time.sleep(0.1)
        found["title"] = js("return document.title")
        found["verdict"] = js("const v = document.getElementById('verdict'); return v ? v.textContent : null")
        found["last_line"] = js("const v = document.getElementById('last-line'); return v ? v.textContent : null")
        found["criteria_rows"] = js("return new Set(Array.from(document.querySelectorAll('[data-criterion]')).map(e => e.dataset.criterion)).size")
        found["images"] = js("return document.images.length")
        found["images_broken"] = js("return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))")
        found["scripts"] = js("return document.scripts.length")
        found["event_handler_attributes"] = js(
            "return Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes).filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))")
        resources = js("return performance.getEntriesByType('resource').map(e => e.name)")
        found["resources"] = len(resources)
        # The reader's first view, for the screenshot and the first height.
        height = "Math.round(document.body.getBoundingClientRect().height)"
        found["height_as_opened"] = js(f"return {height}")
        sections = "Array.from(document.querySelectorAll('details.section.s2'))"
        found["sections"] = js(f"return {sections}.length")
        found["contents_links"] = js(
            "return Array.from(document.querySelectorAll('nav#contents a')).filter(a => "
            "document.getElementById(a.getAttribute('href').slice(1))).length")
        found["height_folded"] = js(f"{sections}.forEach(d => d.open = false); return {height}")
        found["folds_that_do_not_open"] = js(
            f"const dead = [];"
            f"for (const d of {sections}) {{ const shut = d.getBoundingClientRect().height; d.open = true;"
            " if (d.getBoundingClientRect().height <= shut) dead.push(d.id); d.open = false; }"
            "return dead")
        found["height_open"] = js(f"document.querySelectorAll('details').forEach(d => d.open = true); return {height}")
        found["svg_texts"] = js("return document.querySelectorAll('svg text').length")
        found["clipped_svg_text"] = js(
            "return Array.from(document.querySelectorAll('svg text')).filter(t => {"
            " const r = t.getBoundingClientRect(), s = t.ownerSVGElement.getBoundingClientRect();"
            " return r.left < s.left - 0.5 || r.right > s.right + 0.5 || r.top < s.top - 0.5 || r.bottom > s.bottom + 0.5;"
            "}).map(t => t.textContent)")
        # Back to the page as a reader first sees it, for the screenshot.
        call(port, "POST", f"{base}/refresh", {})
        for _ in range(100):
            if js("return Array.from(document.images).every(i => i.complete)"):
                break
            time.sleep(0.1)
        inside = folder.as_uri() + "/"
        found["outside_requests"] = [r for r in resources if not r.startswith(inside)]
        shot = base64.b64decode(call(port, "GET", f"{base}/screenshot")["value"])
        if a.screenshot:
            Path(a.screenshot).write_bytes(shot)
        found["screenshot_bytes"] = len(shot)
        call(port, "DELETE", base)
    except Exception as e:  # the browser could not be driven: not a verdict on the page
        print(json.dumps({"error": f"{type(e).__name__}: {e}", **found}))
        return 2
    finally:
        proc.terminate()
        shutil.rmtree(profile, ignore_errors=True)

    if not found.get("verdict"):
        failures.append("no verdict element")
    if a.expect_criteria is not None and found["criteria_rows"] != a.expect_criteria:
        failures.append(f"{found['criteria_rows']} criterion rows, expected {a.expect_criteria}")
    if a.expect_images is not None and found["images"] != a.expect_images:
        failures.append(f"{found['images']} images, expected {a.expect_images}")
    if found["images_broken"]:
        failures.append(f"images not loaded: {found['images_broken']}")
    if found["scripts"] or found["event_handler_attributes"]:
        failures.append("script or event handler present")
    if found["outside_requests"]:
        failures.append(f"requests outside the report folder: {found['outside_requests']}")
    if found["clipped_svg_text"]:
        failures.append(f"chart text clipped: {found['clipped_svg_text']}")
    if found["folds_that_do_not_open"]:
        failures.append(f"sections that do not open: {found['folds_that_do_not_open']}")
    if found["contents_links"] != found["sections"]:
        failures.append(f"{found['contents_links']} contents links for {found['sections']} sections")
    found["failures"] = failures
    print(json.dumps(found))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
