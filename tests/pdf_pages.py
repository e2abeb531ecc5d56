"""A light reader of the PDFs headless Chromium prints: the page count and, from the tagged
structure Chromium writes (uncompressed `StructElem` objects naming the page of their content),
the pages each table and each table row lies on."""

from __future__ import annotations

import re

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
KIDS = re.compile(rb"/K\s*(\[.*\]|\d+ 0 R)", re.S)


def page_count(data: bytes) -> int:
    """The page count of the page tree's root (the largest /Count)."""
    return max(int(n) for n in re.findall(rb"/Type /Pages\b[^>]*?/Count (\d+)", data, re.S))


def objects(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in OBJECT.finditer(data)}


def pages_of(objs: dict[int, bytes], number: int) -> set[int]:
    """The page objects the content of structure element `number` and its kids lies on."""
    found, stack, seen = set(), [number], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        body = objs.get(current, b"")
        found |= {int(p) for p in re.findall(rb"/Pg (\d+) 0 R", body)}
        kids = KIDS.search(body)
        if kids:
            refs = (int(r) for r in re.findall(rb"(\d+) 0 R", kids.group(1)))
            stack += [r for r in refs if b"/StructElem" in objs.get(r, b"")]
    return found


def elements(data: bytes, kind: bytes) -> list[tuple[bytes, set[int]]]:
    """(body, pages) of every structure element of type `kind` (b"Table", b"TR", ...)."""
    objs = objects(data)
    return [
        (body, pages_of(objs, number))
        for number, body in sorted(objs.items())
        if b"/StructElem" in body and re.search(rb"/S /" + kind + rb"\b", body)
    ]


def body_rows_split(data: bytes) -> int:
    """Table rows of data cells (not repeated header rows) whose content spans pages."""
    objs = objects(data)
    split = 0
    for body, pages in elements(data, b"TR"):
        kids = KIDS.search(body)
        refs = [int(r) for r in re.findall(rb"(\d+) 0 R", kids.group(1))] if kids else []
        header = any(re.search(rb"/S /TH\b", objs.get(r, b"")) for r in refs)
        split += len(pages) > 1 and not header
    return split


def used_pages(data: bytes) -> set[int]:
    """The page objects that hold tagged content (a blank page holds none)."""
    objs = objects(data)
    return {int(p) for body in objs.values() for p in re.findall(rb"/Pg (\d+) 0 R", body)}
