"""UTF-8 test sequences for cases 6.5 to 6.23.

Taken from the sections of Markus Kuhn's "UTF-8 decoder capability and stress
test" (UTF-8-test.txt), grouped and ordered so that the case numbers match the
Autobahn TestSuite (6.5 is the first group, 6.23 the last).  Whether a
sequence is valid is not written down by hand: it is whatever a strict
RFC 3629 decoder says (Python's), which rejects overlong forms, surrogates and
code points above U+10FFFF and accepts non-characters.
"""

KOSME = bytes.fromhex("cebae1bdb9cf83cebcceb5")  # Greek "kosme", Kuhn section 1


def _h(*hexes):
    return [bytes.fromhex(h) for h in hexes]


def _lonely_starts():
    # Kuhn 3.2: every start byte of a range, each followed by a space.
    out = []
    for first, last in ((0xC0, 0xDF), (0xE0, 0xEF), (0xF0, 0xF7), (0xF8, 0xFB), (0xFC, 0xFD)):
        out.append(b"".join(bytes([b, 0x20]) for b in range(first, last + 1)))
    return out


_MISSING_LAST = _h("c0", "e080", "f08080", "f8808080", "fc80808080",
                   "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf")


def _noncharacters():
    # Kuhn 5.3: U+FFFE/U+FFFF and the last two code points of every plane.
    # They are valid UTF-8 (RFC 3629 only forbids surrogates and > U+10FFFF).
    out = _h("efbfbe", "efbfbf")
    for lead in (0xF0, 0xF1, 0xF2, 0xF3, 0xF4):
        for second in (0x8F, 0x9F, 0xAF, 0xBF):
            if lead == 0xF4 and second != 0x8F:
                continue  # would be above U+10FFFF
            for last in (0xBE, 0xBF):
                seq = bytes([lead, second, 0xBF, last])
                if lead == 0xF0 and second == 0x8F:
                    continue  # overlong form of a BMP code point
                out.append(seq)
    return out


# (group title, [byte sequences]); group i is case 6.(i+5), sequence j is 6.(i+5).(j+1)
GROUPS = [
    ("Some valid UTF-8 sequences",
     [b"hello$world", b"hello\xc2\xa2world", b"hello\xe2\x82\xacworld",
      b"hello\xf0\xa4\xad\xa2world", KOSME]),
    ("All prefixes of a valid UTF-8 string with multi-byte code points",
     [KOSME[:i] for i in range(1, len(KOSME) + 1)]),
    ("First possible sequence of a certain length (Kuhn 2.1)",
     _h("00", "c280", "e0a080", "f0908080")),
    ("First possible sequence of length 5/6 (Kuhn 2.1, invalid code points)",
     _h("f888808080", "fc8480808080")),
    ("Last possible sequence of a certain length (Kuhn 2.2)",
     _h("7f", "dfbf", "efbfbf", "f48fbfbf")),
    ("Last possible sequence of length 4/5/6 (Kuhn 2.2, invalid code points)",
     _h("f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf")),
    ("Other boundary conditions (Kuhn 2.3)",
     _h("ed9fbf", "ee8080", "efbfbd", "f48fbfbf", "f4908080")),
    ("Unexpected continuation bytes (Kuhn 3.1)",
     _h("80", "bf", "80bf", "80bf80", "80bf80bf", "80bf80bf80", "80bf80bf80bf")
     + [bytes(range(0x80, 0xC0))]),
    ("Lonely start characters (Kuhn 3.2)", _lonely_starts()),
    ("Sequences with last continuation byte missing (Kuhn 3.3)", _MISSING_LAST),
    ("Concatenation of incomplete sequences (Kuhn 3.4)", [b"".join(_MISSING_LAST)]),
    ("Impossible bytes (Kuhn 3.5)", _h("fe", "ff", "fefeffff")),
    ("Overlong ASCII character (Kuhn 4.1)",
     _h("c0af", "e080af", "f08080af", "f8808080af", "fc80808080af")),
    ("Maximum overlong sequences (Kuhn 4.2)",
     _h("c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf")),
    ("Overlong representation of NUL (Kuhn 4.3)",
     _h("c080", "e08080", "f0808080", "f880808080", "fc8080808080")),
    ("Single UTF-16 surrogates (Kuhn 5.1)",
     _h("eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf")),
    ("Paired UTF-16 surrogates (Kuhn 5.2)",
     _h("eda080edb080", "eda080edbfbf", "edadbfedb080", "edadbfedbfbf",
        "edae80edb080", "edae80edbfbf", "edafbfedb080", "edafbfedbfbf")),
    ("Non-character code points, valid UTF-8 (Kuhn 5.3)", _noncharacters()),
    ("Unicode specials, valid UTF-8",
     _h("efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd", "efbfbe", "efbfbf")),
]

FIRST_GROUP_NUMBER = 5


def is_valid_utf8(data):
    try:
        data.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False
