"""The compiled part of ``streams.io.avro_profiles``: ``customer_profile.v2`` Avro bodies read
straight into integer arrays, compiled by numba (a dependency; ``streams.kernel.compiled``),
plain Python when it is missing (the same results, about a hundred times slower: tests only).

A batch is one ``uint8`` buffer (the messages one after the other) with each body's start and
end. Nothing is built per value: a string is its (start, length) in the buffer, checked as
UTF-8; a double is the position of its 8 bytes; ``kind``, ``type`` and ``channel`` are coded
against a vocabulary (its index, ``OTHER`` when not in it, ``NULL`` for a null) and so are the
identifiers' kinds (a bit per word of the second vocabulary, the text before ``:``).

Invariants:
- ``decode`` returns -1 when every body is exactly one record, else the index of the first
  that is not: a long over 10 bytes, a negative or too long length, a union branch other than
  0 or 1, invalid UTF-8 (overlong forms, surrogates and code points past U+10FFFF included)
  or bytes left after the record; what cavro refuses, this refuses (and may refuse more, which
  only sends the batch message by message);
- map entries and tags are appended to ``M`` and ``T`` in the order written; a profile's
  interactions are consecutive rows of ``I``.
"""

from __future__ import annotations

from typing import Any, Final

from streams.kernel.compiled import COMPILED as COMPILED  # what ``available`` asks
from streams.kernel.compiled import jit as _jit

OTHER: Final = -1
NULL: Final = -2
#: columns of ``P`` (one row per profile)
(P_PERSON, P_PERSON_LEN, P_VERSION, P_UPDATED, P_FIRST_SEEN, P_TOUCHPOINTS, P_ATTR, P_ATTR_END,
 P_TAGS, P_TAGS_END, P_MERGED_LEN, P_RECENT, P_RECENT_END, P_ID_KINDS) = range(14)
#: columns of ``I`` (one row per interaction)
(I_EVENT, I_EVENT_LEN, I_KIND, I_AT, I_TYPE, I_CHANNEL, I_CHANNEL_FIRST, I_VALUE, I_CURRENCY,
 I_CURRENCY_LEN, I_ATTR, I_ATTR_END, I_PROFILE, I_CHANNEL_AT, I_CHANNEL_LEN) = range(15)


@_jit
def _long(buf: Any, pos: int, end: int) -> tuple[int, int]:
    """A zigzag varint: (value, next position), position -1 when bad or cut."""
    acc = 0
    shift = 0
    while True:
        if pos >= end or shift > 63:
            return 0, -1
        b = int(buf[pos])
        pos += 1
        if shift == 63 and b > 1:
            return 0, -1
        acc |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
    # a logical shift (compiled, ``acc`` is a signed 64-bit integer whose top bit may be set)
    return ((acc >> 1) & 0x7FFFFFFFFFFFFFFF) ^ -(acc & 1), pos


@_jit
def _utf8(buf: Any, i: int, end: int) -> bool:
    while i < end:
        c = buf[i]
        if c < 0x80:
            i += 1
        elif c < 0xC2:
            return False
        elif c < 0xE0:
            if i + 1 >= end or (buf[i + 1] & 0xC0) != 0x80:
                return False
            i += 2
        elif c < 0xF0:
            if i + 2 >= end or (buf[i + 1] & 0xC0) != 0x80 or (buf[i + 2] & 0xC0) != 0x80:
                return False
            if (c == 0xE0 and buf[i + 1] < 0xA0) or (c == 0xED and buf[i + 1] >= 0xA0):
                return False  # overlong, or a surrogate
            i += 3
        elif c < 0xF5:
            if (i + 3 >= end or (buf[i + 1] & 0xC0) != 0x80 or (buf[i + 2] & 0xC0) != 0x80
                    or (buf[i + 3] & 0xC0) != 0x80):
                return False
            if (c == 0xF0 and buf[i + 1] < 0x90) or (c == 0xF4 and buf[i + 1] >= 0x90):
                return False  # overlong, or past U+10FFFF
            i += 4
        else:
            return False
    return True


@_jit
def _string(buf: Any, pos: int, end: int) -> tuple[int, int, int]:
    """(start, length, next position); next position -1 when bad."""
    n, pos = _long(buf, pos, end)
    if pos < 0 or n < 0 or n > end - pos or not _utf8(buf, pos, pos + n):
        return 0, 0, -1
    return pos, n, pos + n


@_jit
def _block(buf: Any, pos: int, end: int) -> tuple[int, int]:
    """The count of an array or map block (a negative count is followed by its byte size)."""
    count, pos = _long(buf, pos, end)
    if pos >= 0 and count < 0:
        count = -count
        _, pos = _long(buf, pos, end)
    return count, pos


@_jit
def _code(buf: Any, start: int, n: int, words: Any, bounds: Any) -> int:
    """The index of the word of the vocabulary equal to ``buf[start:start + n]``, or OTHER."""
    for w in range(bounds.shape[0] - 1):
        a = bounds[w]
        if bounds[w + 1] - a == n:
            same = True
            for j in range(n):
                if words[a + j] != buf[start + j]:
                    same = False
                    break
            if same:
                return w
    return -1


@_jit
def _same(buf: Any, a: int, b: int, n: int) -> bool:
    for j in range(n):  # a loop: numba compiles it, not a generator  # noqa: SIM110
        if buf[a + j] != buf[b + j]:
            return False
    return True


@_jit
def _strings(buf: Any, pos: int, end: int, T: Any, nt: int, keep: bool) -> tuple[int, int]:
    """An array of strings: (next position, rows of ``T`` used); kept in ``T`` if ``keep``."""
    while True:
        count, pos = _block(buf, pos, end)
        if pos < 0 or count == 0:
            return pos, nt
        for _ in range(count):
            s, n, pos = _string(buf, pos, end)
            if pos < 0:
                return pos, nt
            if keep:
                T[nt, 0] = s
                T[nt, 1] = n
                nt += 1


@_jit
def _map(buf: Any, pos: int, end: int, M: Any, nm: int, doubles: bool) -> tuple[int, int]:
    """A map of strings (kept in ``M``) or of doubles (skipped): (next position, rows used)."""
    while True:
        count, pos = _block(buf, pos, end)
        if pos < 0 or count == 0:
            return pos, nm
        for _ in range(count):
            ks, kn, pos = _string(buf, pos, end)
            if pos < 0:
                return pos, nm
            if doubles:
                if end - pos < 8:
                    return -1, nm
                pos += 8
                continue
            vs, vn, pos = _string(buf, pos, end)
            if pos < 0:
                return pos, nm
            M[nm, 0] = ks
            M[nm, 1] = kn
            M[nm, 2] = vs
            M[nm, 3] = vn
            nm += 1


@_jit
def _branch(buf: Any, pos: int, end: int) -> tuple[int, int]:
    """A ``["null", T]`` union's branch: 0 or 1, position -1 for any other."""
    b, pos = _long(buf, pos, end)
    if pos >= 0 and (b < 0 or b > 1):
        return 0, -1
    return b, pos


@_jit
def decode(buf: Any, starts: Any, ends: Any, words: Any, bounds: Any, id_words: Any,
           id_bounds: Any, P: Any, I: Any, M: Any, T: Any) -> int:  # noqa: E741 - as documented
    """Fills ``P``, ``I``, ``M`` and ``T``; -1, or the index of the first bad body."""
    ni = nm = nt = 0
    for k in range(starts.shape[0]):
        pos, end = starts[k], ends[k]
        P[k, P_PERSON], P[k, P_PERSON_LEN], pos = _string(buf, pos, end)
        for f in range(4):  # version, updated_at, first_seen, last_seen
            if pos >= 0:
                v, pos = _long(buf, pos, end)
                if f < 3:
                    P[k, P_VERSION + f] = v
        kinds = 0  # the identifiers' kinds
        while pos >= 0:
            count, pos = _block(buf, pos, end)
            if pos < 0 or count == 0:
                break
            for _ in range(count):
                s, n, pos = _string(buf, pos, end)
                if pos < 0:
                    break
                colon = n
                for j in range(n):
                    if buf[s + j] == 58:  # ':'
                        colon = j
                        break
                word = _code(buf, s, colon, id_words, id_bounds)
                if word >= 0:
                    kinds |= 1 << word
        P[k, P_ID_KINDS] = kinds
        if pos < 0:
            return k
        P[k, P_ATTR] = nm
        pos, nm = _map(buf, pos, end, M, nm, False)
        P[k, P_ATTR_END] = nm
        if pos < 0:
            return k
        P[k, P_TAGS] = nt
        pos, nt = _strings(buf, pos, end, T, nt, True)
        P[k, P_TAGS_END] = nt
        if pos < 0:
            return k
        _, _, pos = _string(buf, pos, end)  # lifecycle_stage
        if pos < 0:
            return k
        pos, nt = _strings(buf, pos, end, T, nt, False)  # channels
        if pos < 0:
            return k
        P[k, P_TOUCHPOINTS], pos = _long(buf, pos, end)
        if pos >= 0:
            _, pos = _long(buf, pos, end)  # conversions
        if pos >= 0:
            pos, nm = _map(buf, pos, end, M, nm, True)  # revenue
        if pos >= 0:
            pos, nm = _map(buf, pos, end, M, nm, True)  # scores
        if pos < 0:
            return k
        first = P[k, P_RECENT] = ni
        while pos >= 0:
            count, pos = _block(buf, pos, end)
            if pos < 0 or count == 0:
                break
            for _ in range(count):
                I[ni, I_PROFILE] = k
                I[ni, I_EVENT], I[ni, I_EVENT_LEN], pos = _string(buf, pos, end)
                if pos < 0:
                    return k
                s, n, pos = _string(buf, pos, end)
                if pos < 0:
                    return k
                I[ni, I_KIND] = _code(buf, s, n, words, bounds)
                I[ni, I_AT], pos = _long(buf, pos, end)
                I[ni, I_TYPE] = I[ni, I_CHANNEL] = NULL
                I[ni, I_CHANNEL_FIRST] = -1
                for u in range(3):  # type, channel, campaign_id
                    b, pos = _branch(buf, pos, end)
                    if pos < 0:
                        return k
                    if b == 1:
                        s, n, pos = _string(buf, pos, end)
                        if pos < 0:
                            return k
                        if u == 0:
                            I[ni, I_TYPE] = _code(buf, s, n, words, bounds)
                        elif u == 1:
                            I[ni, I_CHANNEL] = _code(buf, s, n, words, bounds)
                            if n > 0:  # the first interaction of the profile with this channel
                                I[ni, I_CHANNEL_FIRST] = ni
                                for j in range(first, ni):
                                    if (I[j, I_CHANNEL_FIRST] == j and I[j, I_CHANNEL_LEN] == n
                                            and _same(buf, I[j, I_CHANNEL_AT], s, n)):
                                        I[ni, I_CHANNEL_FIRST] = j
                                        break
                                I[ni, I_CHANNEL_AT], I[ni, I_CHANNEL_LEN] = s, n
                b, pos = _branch(buf, pos, end)  # value
                I[ni, I_VALUE] = -1
                if pos >= 0 and b == 1:
                    if end - pos < 8:
                        return k
                    I[ni, I_VALUE] = pos
                    pos += 8
                if pos >= 0:
                    b, pos = _branch(buf, pos, end)  # currency
                I[ni, I_CURRENCY_LEN] = -1
                if pos >= 0 and b == 1:
                    I[ni, I_CURRENCY], I[ni, I_CURRENCY_LEN], pos = _string(buf, pos, end)
                if pos < 0:
                    return k
                I[ni, I_ATTR] = nm
                pos, nm = _map(buf, pos, end, M, nm, False)
                I[ni, I_ATTR_END] = nm
                if pos < 0:
                    return k
                ni += 1
        P[k, P_RECENT_END] = ni
        if pos < 0:
            return k
        b, pos = _branch(buf, pos, end)  # merged_into
        P[k, P_MERGED_LEN] = -1
        if pos >= 0 and b == 1:
            _, P[k, P_MERGED_LEN], pos = _string(buf, pos, end)
        if pos != end:
            return k
    return -1
