#!/usr/bin/python3
"""Regenerates NotoSansSC-GB2312.otf, the embedded CJK subset.

Dev tool only: the subset is committed and CI never runs this script.
Needs Debian's fonts-noto-cjk and python3-fonttools (run with /usr/bin/python3).

The character set is GB2312 (6,763 hanzi + 682 symbols, decoded with
Python's gb2312 codec), printable ASCII, Latin-1 and the punctuation,
arrows, units and box symbols that show up in alert titles and labels.
Layout tables are dropped: the renderer places glyphs one by one.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("NOTO_CJK_TTC", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_NUMBER = "2"  # member 2 of the Noto Sans CJK TTC is "Noto Sans CJK SC"
OUT = os.path.join(HERE, "NotoSansSC-GB2312.otf")


def charset():
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    chars.update(chr(c) for c in range(0x20, 0x7F))
    chars.update(chr(c) for c in range(0xA0, 0x100))
    extra = [
        (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
        (0x2030, 0x203B),  # per mille, primes
        (0x2190, 0x2199),  # arrows
        (0x2460, 0x2473),  # circled numbers
        (0x3000, 0x303F),  # CJK punctuation
        (0xFF01, 0xFF5E),  # full-width forms
        (0x00B5, 0x00B5),  # micro sign
        (0x03BC, 0x03BC),  # greek mu (µs)
        (0x2103, 0x2103),  # ℃
        (0x2109, 0x2109),  # ℉
    ]
    for lo, hi in extra:
        chars.update(chr(c) for c in range(lo, hi + 1))
    return "".join(sorted(chars))


def main():
    text = charset()
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        subprocess.run(
            [sys.executable, "-m", "fontTools.subset", SRC,
             "--font-number=" + FONT_NUMBER,
             "--text-file=" + path,
             "--output-file=" + OUT,
             "--no-hinting",
             "--layout-features=",
             "--no-layout-closure",
             "--drop-tables+=GSUB,GPOS,VORG,vhea,vmtx",
             "--name-IDs=*",
             "--name-languages=*"],
            check=True)
    finally:
        os.unlink(path)
    print("%s: %d characters, %d bytes" % (OUT, len(text), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
