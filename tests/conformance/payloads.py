"""Deterministic payload corpora for the compression cases (categories 12, 13).

Each corpus is generated from a fixed seed the first time it is needed, so
runs are reproducible and no data files ship with the harness.  A case sends
consecutive slices of one corpus, wrapping around at its end, so no two
messages of a case are alike; text slices are trimmed to whole UTF-8
characters (the cut octets become spaces) so every text message is valid.
"""

import functools
import json
import random

CORPUS_BYTES = 600_000

_WORDS = (
    "the of and to in is was that for on with as by at from this have not are but "
    "which one all were when there can more an been would their if has will so no "
    "other about into than them these some could time only may then its two first "
    "water after where most through long down over should because each people just "
    "Straße Grüße Mädchen schön über müssen Bäume Käse Größe weiß fröhlich "
    "déjà façade naïve élan garçon crème Zürich Ångström smörgåsbord "
    "протокол сообщение ветер окно 東京 大阪 通信 圧縮 ☃ ★ €"
).split()


def _sentences(rng, target):
    out, size = [], 0
    while size < target:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(5, 16))]
        if len(words) > 8 and rng.random() < 0.5:
            words[rng.randint(2, len(words) - 3)] += ","
        sentence = " ".join(words)
        sentence = sentence[0].upper() + sentence[1:] + rng.choice(".....?!") + " "
        if rng.random() < 0.15:
            sentence += "\n\n"
        out.append(sentence)
        size += len(sentence.encode("utf-8"))
    return "".join(out)


@functools.lru_cache(maxsize=None)
def prose():
    """Human-readable text in several languages: compresses well."""
    return _sentences(random.Random(1201), CORPUS_BYTES).encode("utf-8")


@functools.lru_cache(maxsize=None)
def image():
    """An 8-bit grayscale picture: smooth shapes plus sensor-like noise."""
    rng = random.Random(1202)
    width = 640
    rows = []
    noise = rng.randbytes(CORPUS_BYTES + width)
    for y in range(CORPUS_BYTES // width + 1):
        base = y * width
        rows.append(bytes(((((x - 320) ** 2 + (y - 470) ** 2) >> 9) + (x >> 2) + (noise[base + x] & 7))
                          & 0xFF for x in range(width)))
    return b"".join(rows)[:CORPUS_BYTES]


@functools.lru_cache(maxsize=None)
def noise():
    """Random octets: deflate cannot shrink them."""
    return random.Random(1203).randbytes(CORPUS_BYTES)


@functools.lru_cache(maxsize=None)
def records():
    """JSON: an array of records, the kind of traffic applications send."""
    rng = random.Random(1204)
    first = ["Anna", "Jürgen", "Zoë", "Łukasz", "Ines", "Søren", "Mei", "Olu", "José", "Ярослав"]
    last = ["Müller", "García", "Nakamura", "Okafor", "Smith", "Dubois", "Kowalski", "Öztürk"]
    cities = ["Berlin", "São Paulo", "Kraków", "東京", "Reykjavík", "Nairobi", "Montréal"]
    tags = ["alpha", "beta", "gamma", "delta", "urgent", "archived", "new", "vip"]
    parts, size, n = [], 0, 0
    while size < CORPUS_BYTES:
        n += 1
        name = "%s %s" % (rng.choice(first), rng.choice(last))
        record = {
            "id": n,
            "name": name,
            "email": "%s.%d@example.org" % (name.split()[0].lower(), rng.randint(1, 999)),
            "city": rng.choice(cities),
            "tags": rng.sample(tags, rng.randint(0, 3)),
            "score": round(rng.uniform(0, 1000), 2),
            "active": rng.random() < 0.7,
            "updated": "2024-%02d-%02dT%02d:%02d:%02dZ" % (
                rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                rng.randint(0, 59), rng.randint(0, 59)),
        }
        text = json.dumps(record, ensure_ascii=False)
        parts.append(text)
        size += len(text.encode("utf-8")) + 2
    return ("[" + ",\n".join(parts) + "]").encode("utf-8")


@functools.lru_cache(maxsize=None)
def markup():
    """HTML: nested elements with attributes around prose."""
    rng = random.Random(1205)
    out, size, n = ["<!DOCTYPE html>\n<html><body>\n"], 0, 0
    while size < CORPUS_BYTES:
        n += 1
        text = _sentences(rng, rng.randint(80, 400)).strip()
        block = ('<div class="item item-%d" id="i%d">\n  <h2><a href="/items/%d">%s</a></h2>\n'
                 '  <p>%s</p>\n  <ul>%s</ul>\n</div>\n' % (
                     n % 7, n, n, text[:40], text,
                     "".join("<li>%d</li>" % rng.randint(0, 99) for _ in range(rng.randint(1, 5)))))
        out.append(block)
        size += len(block.encode("utf-8"))
    out.append("</body></html>\n")
    return "".join(out).encode("utf-8")


def utf8_trim(chunk):
    """The chunk with partial UTF-8 characters at either end turned into spaces."""
    b = bytearray(chunk)
    i = 0
    while i < len(b) and 0x80 <= b[i] < 0xC0:
        b[i] = 0x20
        i += 1
    j = len(b) - 1
    while j >= i and j > len(b) - 4 and 0x80 <= b[j] < 0xC0:
        j -= 1
    if j >= i and b[j] >= 0xC0:
        need = 2 if b[j] < 0xE0 else 3 if b[j] < 0xF0 else 4
        if len(b) - j < need:
            b[j:] = b" " * (len(b) - j)
    return bytes(b)


def slices(corpus, size, count, text, start=0):
    """`count` consecutive slices of `size` octets, wrapping around the corpus."""
    n = len(corpus)
    pos = start % n
    out = []
    for _ in range(count):
        end = pos + size
        chunk = corpus[pos:end] if end <= n else corpus[pos:] + corpus[:end - n]
        out.append(utf8_trim(chunk) if text else chunk)
        pos = end % n
    return out
