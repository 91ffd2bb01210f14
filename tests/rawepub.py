"""EPUBs written byte by byte, for hostile-input tests: each chapter's XHTML is stored exactly as given
(any encoding, any nesting, any size), which ebooklib's writer would not allow."""

from __future__ import annotations

import zipfile
from pathlib import Path

CONTAINER = (
    b'<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    b'<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    b"</rootfiles></container>"
)


def xhtml(body: str, *, encoding: str = "utf-8", declare: bool = True, bom: bool = False) -> bytes:
    """A chapter document: `body` is the inside of <body>, encoded as asked (with or without an XML declaration)."""
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declare else ""
    doc = (
        f'{head}<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>'
        f"<body>{body}</body></html>"
    )
    data = doc.encode(encoding)
    if bom and encoding.lower().replace("-", "") == "utf8":
        data = b"\xef\xbb\xbf" + data
    return data


def write_epub(
    path: Path, chapters: list[bytes], *, title: str = "Hostile", compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    """An EPUB 2 with the given chapter documents in spine order (no table of contents titles)."""
    items = "".join(
        f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters))
    )
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title>{title}</dc:title><dc:identifier id="id">hostile</dc:identifier><dc:language>en</dc:language>'
        f'</metadata><manifest><item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>{items}'
        f'</manifest><spine toc="ncx">{spine}</spine></package>'
    )
    ncx = (
        '<?xml version="1.0" encoding="utf-8"?>\n<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
        '<head><meta name="dtb:uid" content="hostile"/></head><docTitle><text>Hostile</text></docTitle>'
        "<navMap></navMap></ncx>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", CONTAINER, compress_type=compression)
        zf.writestr("OEBPS/content.opf", opf.encode(), compress_type=compression)
        zf.writestr("OEBPS/toc.ncx", ncx.encode(), compress_type=compression)
        for i, data in enumerate(chapters):
            zf.writestr(f"OEBPS/c{i}.xhtml", data, compress_type=compression)
    return path
