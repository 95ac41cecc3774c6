#!/usr/bin/env python3
"""Checks the links of the Markdown sources and of the built manual (standard library only).

    python3 tools/check_links.py [--html BOOK_DIR --html-root DIR] PATH...

PATH: Markdown files, or folders searched for *.md. Each link must be an `https://` page or a
relative path that stays inside the repository (inside --html-root for the built HTML), names a
file or folder that exists, and, with `#anchor`, an anchor that exists in that file (Markdown
headings as GitHub and mdBook name them, or HTML `id`/`name` attributes). Links to `../shared`
leave the repository and fail like any other. Exit status 1 lists every broken link.
"""

import argparse
import functools
import html.parser
import os
import re
import sys
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def blank_fences(text):
    """The lines of `text` with fenced code blocks blanked (line breaks kept, so that reported
    line numbers stay right)."""
    out, fence = [], None
    for line in text.split("\n"):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append("")
        elif m:
            fence = m.group(1)
            out.append("")
        else:
            out.append(line)
    return out


def strip_code(text):
    """Markdown with fenced blocks, inline code and HTML comments blanked (links there are
    text)."""
    text = "\n".join(blank_fences(text))
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    # A code span ends at the next run of the same number of backticks.
    return re.sub(
        r"(`+)(?:(?!\1).)+?\1", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S
    )


INLINE = re.compile(r"\]\(\s*<?([^()\s<>]+(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
AUTOLINK = re.compile(r"<((?:https?|ftp|file|mailto):[^>\s]+)>")
HTMLATTR = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")


def markdown_links(text):
    """(line, target) for every link, image, reference definition and HTML href/src."""
    text = strip_code(text)
    for pattern in (INLINE, REFDEF, AUTOLINK, HTMLATTR):
        for m in pattern.finditer(text):
            yield text.count("\n", 0, m.start()) + 1, m.group(1)


def slug(heading, used):
    """The anchor GitHub and mdBook give a heading: lower case, word characters, `-` and `_`
    kept, spaces to `-`, the rest dropped; a repeated one gets `-1`, `-2`, ..."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    base = "".join(c for c in text if c.isalnum() or c in "-_ ").replace(" ", "-")
    name, n = base, 0
    while name in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name)
    return name


@functools.lru_cache(maxsize=None)
def markdown_anchors(path):
    # Fenced blocks blanked (a `# comment` there is no heading); code spans kept as text, since
    # a heading's code counts toward its anchor.
    text = "\n".join(line.replace("`", "") for line in blank_fences(read(path)))
    used, anchors = set(), set()
    for m in re.finditer(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
        anchors.add(slug(m.group(1), used))
    anchors.update(re.findall(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""", text))
    return anchors


class HtmlLinks(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.anchors = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.anchors.add(value)
            if (name == "href" and tag in ("a", "link", "area")) or (
                name == "src" and tag in ("img", "script", "iframe", "source")
            ):
                self.links.append((self.getpos()[0], value))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=None)
def parse_html(path):
    p = HtmlLinks()
    p.feed(read(path))
    return p


def anchors_of(path):
    if path.endswith(".md"):
        return markdown_anchors(path)
    if path.endswith((".html", ".htm")):
        return parse_html(path).anchors
    return None


def check(source, line, target, root, errors):
    """Appends to errors what is wrong with one link of `source`, found on `line`."""
    where = f"{os.path.relpath(source, REPO)}:{line}: {target}"
    if target.startswith("https://"):
        return  # a public page
    if SCHEME.match(target) or target.startswith("//"):
        errors.append(f"{where}: only https:// pages may be linked outside the repository")
        return
    path, _, anchor = target.partition("#")
    path = urllib.parse.unquote(path.split("?", 1)[0])
    if path.startswith("/"):
        errors.append(f"{where}: an absolute path; link relative to this file")
        return
    resolved = os.path.normpath(os.path.join(os.path.dirname(source), path)) if path else source
    if os.path.commonpath([resolved, root]) != root:
        if root == REPO:
            errors.append(f"{where}: leaves the repository (link its files, or https:// pages)")
        else:
            errors.append(
                f"{where}: leaves the built book ({os.path.relpath(root, REPO)}): a chapter may"
                " link files under docs/ only; name other repository files as `code`"
            )
        return
    if not os.path.exists(resolved):
        errors.append(f"{where}: no such file {os.path.relpath(resolved, REPO)}")
        return
    if anchor:
        anchors = anchors_of(resolved) if os.path.isfile(resolved) else None
        if anchors is None:
            errors.append(f"{where}: #{anchor} on a file that has no anchors")
        elif urllib.parse.unquote(anchor) not in anchors:
            errors.append(f"{where}: no anchor #{anchor} in {os.path.relpath(resolved, REPO)}")


def markdown_files(paths):
    for p in paths:
        p = os.path.abspath(p)
        if os.path.isdir(p):
            for d, dirs, files in os.walk(p):
                dirs.sort()
                yield from (os.path.join(d, f) for f in sorted(files) if f.endswith(".md"))
        else:
            yield p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", help="Markdown files or folders")
    ap.add_argument("--html", help="the built book: every *.html under it is checked")
    ap.add_argument(
        "--html-root",
        help="the folder the built book's links must stay in (default: --html itself)",
    )
    args = ap.parse_args()
    errors, checked = [], 0
    for md in markdown_files(args.paths):
        for line, target in markdown_links(read(md)):
            check(md, line, target, REPO, errors)
            checked += 1
    if args.html:
        book = os.path.abspath(args.html)
        root = os.path.abspath(args.html_root or args.html)
        for d, dirs, files in os.walk(book):
            dirs.sort()
            for f in sorted(files):
                # mdBook's 404 page links from the site's root URL (`<base href="/">`), which
                # only a web server gives it.
                if not f.endswith(".html") or f == "404.html":
                    continue
                page = os.path.join(d, f)
                for line, target in parse_html(page).links:
                    check(page, line, target, root, errors)
                    checked += 1
    for e in errors:
        print(f"check_links: {e}", file=sys.stderr)
    print(f"check_links: {checked} links, {len(errors)} broken")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
