#!/usr/bin/env python3
"""An independent aidledger verifier, written from the specifications alone:
RFC 8032 (ed25519), RFC 6962 / RFC 9162 (Merkle hashing and proof verification),
C2SP signed-note, tlog-checkpoint and tlog-tiles, and docs/FORMAT.md. It shares no
code with the Rust implementation and uses only the Python standard library.

    verify.py vectors docs/vectors/ledger-v1.json
    verify.py server http://127.0.0.1:8080

Exit status 0 when everything verifies and every deliberately tampered variant is
rejected; 1 with a message otherwise.

Canonical JSON is checked with sorted keys and compact separators, which equals
RFC 8785 for the values the log holds (integers, ASCII/BMP keys); that limitation is
this checker's, not the format's.
"""

import base64
import hashlib
import json
import sys
import urllib.request

# ---- RFC 8032 ed25519 verification (cofactorless, strict) -------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % P
    B = (a[1] + a[0]) * (b[1] + b[0]) % P
    C = 2 * a[3] * b[3] * D % P
    Dd = 2 * a[2] * b[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, point):
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = _add(q, point)
        point = _add(point, point)
        s >>= 1
    return q


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _decompress(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
BASE = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def ed25519_verify(public, message, signature):
    if len(signature) != 64:
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    if a is None or r is None:
        return False
    if _equal(_mul(8, a), IDENTITY) or _equal(_mul(8, r), IDENTITY):
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, BASE), _add(r, _mul(k, a)))


# ---- RFC 6962 / 9162 ----------------------------------------------------------------


def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes):
    """RFC 6962 §2.1 Merkle Tree Hash over leaf hashes."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 §2.1.4.2."""
    if first < 1 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first & (first - 1) == 0:
        proof = [first_root] + list(proof)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# ---- C2SP signed-note and tlog-checkpoint ---------------------------------------------


def parse_vkey(vkey):
    name, key_id, key = vkey.split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if raw[0] != 1 or len(raw) != 33:
        raise ValueError("not an ed25519 verifier key")
    computed = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if computed.hex() != key_id:
        raise ValueError("verifier key id does not match")
    return name, computed, raw[1:]


def verify_checkpoint(note, vkey):
    """Returns (origin, size, root) if `note` is signed by `vkey`, else raises."""
    name, key_id, public = parse_vkey(vkey)
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise ValueError("note has no signature block")
    text += "\n"
    ok = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise ValueError("malformed signature line")
        sig_name, sig64 = line[2:].split(" ")
        blob = base64.b64decode(sig64, validate=True)
        if sig_name == name and blob[:4] == key_id:
            ok = ed25519_verify(public, text.encode(), blob[4:])
            if not ok:
                raise ValueError("checkpoint signature is invalid")
    if not ok:
        raise ValueError("checkpoint is not signed by the pinned key")
    lines = text.split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if origin != name or str(size) != lines[1] or len(root) != 32:
        raise ValueError("malformed checkpoint body")
    return origin, size, root


# ---- docs/FORMAT.md entries -------------------------------------------------------------

DOMAIN = b"aidledger/entry/v1\n"


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def verify_entry(leaf):
    entry = json.loads(leaf)
    if set(entry) != {"v", "kind", "author", "created_at", "body", "sig"}:
        raise ValueError("envelope members are wrong")
    if canonical(entry) != leaf:
        raise ValueError("entry is not canonical")
    if entry["v"] != 1 or not isinstance(entry["body"], dict):
        raise ValueError("bad version or body")
    unsigned = {k: v for k, v in entry.items() if k != "sig"}
    if not ed25519_verify(bytes.fromhex(entry["author"]), DOMAIN + canonical(unsigned), bytes.fromhex(entry["sig"])):
        raise ValueError("entry signature does not verify")
    return leaf_hash(leaf)


def flipped(h):
    return bytes([h[0] ^ 1]) + h[1:]


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


# ---- modes ----------------------------------------------------------------------------------


def check_vectors(path):
    v = json.load(open(path, encoding="utf-8"))
    leaves = [bytes.fromhex(h) for h in v["tree"]["leaf_hashes"]]
    for e, expected in zip(v["entries"], leaves):
        expect(verify_entry(e["leaf"].encode()) == expected, "entry leaf hash differs")
        expect(bytes.fromhex(e["signing_message_hex"]) == DOMAIN + e["unsigned_canonical"].encode(), "signing message")
    roots = {r["size"]: bytes.fromhex(r["root"]) for r in v["tree"]["roots"]}
    for size, root in roots.items():
        expect(mth(leaves[:size]) == root, f"root of size {size}")
    for p in v["tree"]["inclusion_proofs"]:
        proof = [bytes.fromhex(h) for h in p["proof"]]
        i, n = p["index"], p["size"]
        expect(verify_inclusion(i, n, leaves[i], proof, roots[n]), f"inclusion {i} in {n}")
        if proof:
            expect(not verify_inclusion(i, n, leaves[i], [flipped(proof[0])] + proof[1:], roots[n]), "tampered inclusion accepted")
    for p in v["tree"]["consistency_proofs"]:
        proof = [bytes.fromhex(h) for h in p["proof"]]
        m, n = p["first"], p["second"]
        expect(verify_consistency(m, n, roots[m], roots[n], proof), f"consistency {m} to {n}")
        if proof:
            expect(not verify_consistency(m, n, roots[m], roots[n], proof[:-1] + [flipped(proof[-1])]), "tampered consistency accepted")
    origin, size, root = verify_checkpoint(v["checkpoint"]["note"], v["checkpoint"]["vkey"])
    expect(root == roots[size], "checkpoint root")
    tampered = v["checkpoint"]["note"].replace(f"\n{size}\n", f"\n{size + 1}\n", 1)
    try:
        verify_checkpoint(tampered, v["checkpoint"]["vkey"])
        raise AssertionError("tampered checkpoint accepted")
    except ValueError:
        pass
    print(f"vectors OK: {len(leaves)} entries, {len(v['tree']['inclusion_proofs'])} inclusion and {len(v['tree']['consistency_proofs'])} consistency proofs")


def fetch(base, path, raw=False):
    with urllib.request.urlopen(base + path) as r:
        body = r.read()
    return body if raw else json.loads(body)


def check_server(base):
    base = base.rstrip("/")
    vkey = fetch(base, "/api/v1/log/key")["vkey"]
    note = fetch(base, "/checkpoint", raw=True).decode()
    _, size, root = verify_checkpoint(note, vkey)
    hashes = []
    while len(hashes) < size:
        page = fetch(base, f"/api/v1/log/entries?start={len(hashes)}&limit=1000")["entries"]
        expect(page, "server stopped serving entries")
        for e in page:
            expect(e["index"] == len(hashes), "entries out of order")
            h = verify_entry(base64.b64decode(e["leaf"]))
            expect(h.hex() == e["leaf_hash"], "served leaf hash differs")
            hashes.append(h)
    expect(mth(hashes[:size]) == root, "recomputed root differs from the checkpoint")
    step = max(1, size // 50)
    for i in range(0, size, step):
        p = fetch(base, f"/api/v1/log/proof/inclusion?leaf_hash={hashes[i].hex()}&tree_size={size}")
        proof = [bytes.fromhex(h) for h in p["hashes"]]
        expect(p["leaf_index"] == i and verify_inclusion(i, size, hashes[i], proof, root), f"inclusion proof {i}")
        if proof:
            expect(not verify_inclusion(i, size, hashes[i], proof[:-1] + [flipped(proof[-1])], root), "tampered proof accepted")
    for m in sorted({1, 2, 3, size // 3, size // 2, size - 1, size}):
        if 1 <= m <= size:
            proof = [bytes.fromhex(h) for h in fetch(base, f"/api/v1/log/proof/consistency?first={m}&second={size}")["hashes"]]
            expect(verify_consistency(m, size, mth(hashes[:m]), root, proof), f"consistency {m} to {size}")
    if size >= 1:
        w = min(size, 256)
        suffix = "" if w == 256 else f".p/{w}"
        tile = fetch(base, f"/tile/0/000{suffix}", raw=True)
        expect(tile == b"".join(hashes[:w]), "level-0 hash tile differs from the leaf hashes")
        bundle = fetch(base, f"/tile/entries/000{suffix}", raw=True)
        pos, count = 0, 0
        while pos < len(bundle):
            n = int.from_bytes(bundle[pos:pos + 2], "big")
            expect(leaf_hash(bundle[pos + 2:pos + 2 + n]) == hashes[count], "entry bundle differs")
            pos, count = pos + 2 + n, count + 1
        expect(count == w, "entry bundle size")
    print(f"server OK: {size} entries, checkpoint, proofs and tiles verified independently")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("vectors", "server"):
        print(__doc__)
        return 2
    try:
        (check_vectors if sys.argv[1] == "vectors" else check_server)(sys.argv[2])
    except (AssertionError, ValueError, KeyError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
