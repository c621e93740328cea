#!/usr/bin/env python3
"""Rebuild NotoSansCJKsc-Regular-tongyong.otf, the font the issuer and the verifier embed.

It is Noto Sans CJK SC Regular (SIL OFL 1.1, see OFL.txt) cut down to the characters a pass
can need, so that the binaries stay small:
  - the 8,105 characters of 通用规范汉字表 (tongyong-8105.txt),
  - every character of GB 2312 (hanzi, kana, Greek, Cyrillic, symbols),
  - ASCII, Latin-1 and Latin Extended-A, general punctuation, letter-like symbols,
    arrows, enclosed numbers, box drawing and geometric shapes, CJK punctuation,
    full-width forms.
Layout tables and hinting are dropped: the renderers place glyphs one by one.

Needs fontTools (`pip install fonttools`) and Debian's fonts-noto-cjk package.
Usage: python3 make-font-subset.py [NotoSansCJK-Regular.ttc]
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SC_INDEX = "2"  # Noto Sans CJK SC inside the collection
OUT = os.path.join(HERE, "NotoSansCJKsc-Regular-tongyong.otf")

chars = set()
with open(os.path.join(HERE, "tongyong-8105.txt"), encoding="utf-8") as f:
    for line in f:
        if not line.startswith("#") and line.strip():
            chars.add(line.rstrip("\n").split("\t")[2])
for b1 in range(0xA1, 0xF8):
    for b2 in range(0xA1, 0xFF):
        try:
            chars.add(bytes([b1, b2]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
RANGES = [
    (0x0020, 0x007F), (0x00A0, 0x0180), (0x2000, 0x2070), (0x2100, 0x2200),
    (0x2460, 0x2500), (0x2500, 0x2600), (0x3000, 0x3040), (0xFF00, 0xFFF0),
]
for lo, hi in RANGES:
    chars.update(chr(c) for c in range(lo, hi))

with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as t:
    t.write("".join(sorted(chars)))
    text_file = t.name
try:
    subprocess.run(
        ["pyftsubset", SOURCE, f"--font-number={SC_INDEX}", f"--text-file={text_file}",
         "--layout-features=", "--no-hinting", f"--output-file={OUT}"],
        check=True,
    )
finally:
    os.unlink(text_file)
print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
