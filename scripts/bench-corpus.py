#!/usr/bin/env python3
"""Times zbar (pyzbar) and zxing-cpp (its Python module) on the QR corpus.

Reads verifier/testdata/corpus/*/manifest.tsv, decodes every exact row with each decoder on an
in-memory 8-bit grayscale image (median of RUNS timings of the decode call alone) and writes one
line per (decoder, image): decoder, folder, image, read (1/0), ms. The Rust corpus benchmark
(verifier/benches/corpus.rs --external FILE) prints these beside the pipeline's figures.

Usage: bench-corpus.py CORPUS_DIR OUT_TSV [RUNS]
"""
import os
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image
from pyzbar import pyzbar

FOLDERS = ["zxingcpp-qr", "zxing-qr", "dgc"]


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def zbar_texts(gray):
    out = []
    for sym in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE]):
        out.append(sym.data.decode("utf-8", errors="replace"))
    return out


def zxing_texts(gray):
    # The module's defaults: try rotated, downscaled and inverted images.
    return [b.text for b in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)]


DECODERS = [
    (f"zxing-cpp {version('zxing-cpp')} (Python)", zxing_texts),
    (f"zbar {os.environ.get('ZBAR_VERSION', '')} (pyzbar {version('pyzbar')})", zbar_texts),
]


def main():
    corpus, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    lines = ["decoder\tfolder\timage\tread\tms"]
    for folder in FOLDERS:
        manifest = (corpus / folder / "manifest.tsv").read_text(encoding="utf-8").split("\n")
        for row in manifest[1:]:
            if not row:
                continue
            fields = row.split("\t")
            if fields[2] != "1":
                continue
            name, expected = fields[0], unescape(fields[1])
            gray = np.asarray(Image.open(corpus / folder / name).convert("L"))
            for label, decode in DECODERS:
                times, texts = [], []
                for _ in range(runs):
                    start = time.perf_counter()
                    texts = decode(gray)
                    times.append((time.perf_counter() - start) * 1000.0)
                read = 1 if expected in texts else 0
                lines.append(f"{label}\t{folder}\t{name}\t{read}\t{statistics.median(times):.3f}")
    out_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
