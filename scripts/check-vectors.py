#!/usr/bin/env python3
"""Checks tests/vectors/*.json with Python's pycose, independently of the Rust code.

For every vector with a signed pass: base45-decode the QR text, parse the COSE_Sign1 with pycose,
check the protected header (alg -8 or -19, 4-byte kid = SHA-256(public key)[:4]), verify the
Ed25519 signature with the trusted key, decode the CWT claims and compare the body with the
vector's pass fields. A vector whose expected verdict is red must fail one of these steps or a
rule (expiry, revocation, the window bounds, the key's scope); the others must pass them.

For a scoped key (vectors 13-15) the key's scope is read from its bundle key entry
(`context.key_entry_hex`, decoded here with cbor2: [key, from, to, null, {1: [prefixes], 2:
[category codes]}]), compared with `context.key_scope`, and applied to the pass body: the
district must start with one of the prefixes, the category must be listed (absent list: any).

    pip install pycose base45 'cbor2<6' && python3 scripts/check-vectors.py
"""
import hashlib
import json
import pathlib
import sys

import base45
import cbor2
from pycose.keys import OKPKey
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pycose.messages import Sign1Message

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "tests" / "vectors"
CATEGORY = {"RawMaterials": 1, "FinishedGoods": 2, "ReturningWorkers": 3}


def suffix_value(suffix):
    return -1 - int(suffix[:3]) if suffix.endswith("X") else int(suffix)


def key_scope(ctx, pub):
    """The scope of the trusted key, from its CBOR bundle entry; None when unscoped."""
    if "key_entry_hex" not in ctx:
        assert "key_scope" not in ctx
        return None
    entry = cbor2.loads(bytes.fromhex(ctx["key_entry_hex"]))
    assert len(entry) == 5, entry
    assert bytes(entry[0]) == pub and entry[1] == ctx["key_valid_from"]
    assert entry[2] == ctx["key_valid_to"] and entry[3] is None
    scope = entry[4]
    assert isinstance(scope, dict) and scope and set(scope) <= {1, 2}, scope
    districts = list(scope.get(1, []))
    categories = list(scope.get(2, []))
    assert all(p.isdigit() and 1 <= len(p) <= 6 for p in districts), districts
    assert districts == sorted(set(districts)) and categories == sorted(set(categories))
    stated = ctx["key_scope"]
    assert districts == stated["districts"], (districts, stated)
    assert categories == [CATEGORY[c] for c in stated["categories"]], (categories, stated)
    return districts, categories


def check(v):
    """Returns a list of failures, empty when the pass is genuine and readable."""
    text = v["qr_text"]
    if not text.startswith("TP1:"):
        return ["not a pass"]
    raw = base45.b45decode(text[4:])
    try:
        tag = cbor2.loads(raw)
    except Exception as e:  # noqa: BLE001 - any decode failure is a finding
        return [f"cbor: {e}"]
    if len(cbor2.dumps(tag)) != len(raw):
        return ["trailing bytes"]
    if not isinstance(tag, cbor2.CBORTag) or tag.tag != 18:
        return ["not a tagged COSE_Sign1"]
    phdr_bytes, uhdr, payload, signature = tag.value
    phdr = cbor2.loads(phdr_bytes)
    alg, kid = phdr.get(1), bytes(phdr.get(4, b""))
    pub = bytes.fromhex(v["trusted_public_key"])
    if kid != hashlib.sha256(pub).digest()[:4]:
        return ["unknown key"]
    if alg not in (-8, -19) or uhdr:
        return ["header"]
    # 1. The signature by hand: Ed25519 over Sig_structure (RFC 9052 section 4.4).
    sig_structure = cbor2.dumps(["Signature1", phdr_bytes, b"", payload])
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(signature, sig_structure)
    except InvalidSignature:
        return ["bad signature"]
    # 2. The same with pycose (which knows alg -8 but not yet -19).
    if alg == -8:
        msg = Sign1Message.decode(raw)
        msg.key = OKPKey(crv="ED25519", x=pub)
        if not msg.verify_signature():
            return ["bad signature (pycose)"]
    claims = cbor2.loads(payload)
    body = {k: list(x) if isinstance(x, tuple) else x for k, x in claims[-65537].items()}
    body[11] = list(body[11])
    p = v["pass"]
    b = p["body"]
    expect = {
        1: b["district"], 2: b["plate"], 4: b["driver_name"],
        5: [b["driver_id"]["prefix"], suffix_value(b["driver_id"]["suffix"])],
        7: CATEGORY[b["category"]], 8: b["cargo"], 9: b["origin"], 10: b["destination"],
        11: b["route"], 12: b["test_sampled_at"],
    }
    if b["trailer"] is not None:
        expect[3] = b["trailer"]
    if b["occupants"] != 1:
        expect[6] = b["occupants"]
    if b.get("arrive_by") is not None:
        expect[13] = b["arrive_by"]
    assert body == expect, (body, expect)
    assert claims[1] == p["issuer"] and claims[4] == p["expires_at"]
    assert claims[5] == p["not_before"] and claims[6] == p["issued_at"]
    assert int.from_bytes(claims[7], "big") == p["serial"]
    ctx = v["context"]
    problems = []
    if int.from_bytes(claims[7], "big") in ctx["revoked"]:
        problems.append("revoked")
    if ctx["now"] - ctx["clock_skew_secs"] >= claims[4]:
        problems.append("expired")
    # What bounds a pass signed with a stolen key (docs/pass-format.md, steps 7a-7d).
    iat, nbf, exp, sampled = claims[6], claims[5], claims[4], body[12]
    max_validity = ctx["max_validity_secs"]
    if exp - nbf > max_validity:
        problems.append("validity too long")
    if nbf < iat - ctx["clock_skew_secs"]:
        problems.append("starts before issue")
    if exp > ctx["key_valid_to"] + max_validity:
        problems.append("outlives key")
    if sampled > iat or sampled < nbf - ctx["max_test_age_secs"] - max_validity:
        problems.append("implausible test time")
    scope = key_scope(ctx, pub)
    if scope is not None:
        districts, categories = scope
        if districts and not any(f"{body[1]:06d}".startswith(p) for p in districts):
            problems.append("district outside the key's scope")
        if categories and body[7] not in categories:
            problems.append("category outside the key's scope")
    return problems


def look_ahead(v):
    """The look-ahead reasons (docs/pass-format.md, step 11a), worked out from the QR text alone:
    the planned arrival (body key 13) still to come, and the test or the pass not lasting."""
    raw = base45.b45decode(v["qr_text"][4:])
    tag = cbor2.loads(raw)
    claims = cbor2.loads(tag.value[2])
    body = claims[-65537]
    ctx = v["context"]
    arrive, now = body.get(13), ctx["now"]
    if arrive is None or arrive <= now:
        return []
    found = []
    test_too_old = now - body[12] > ctx["max_test_age_secs"]
    if not test_too_old and arrive - body[12] > ctx["max_test_age_secs"]:
        found.append("TEST_EXPIRES_BEFORE_ARRIVAL")
    expired = now - ctx["clock_skew_secs"] >= claims[4]
    if not expired and arrive > claims[4]:
        found.append("PASS_EXPIRES_BEFORE_ARRIVAL")
    return found


AHEAD = {"TEST_EXPIRES_BEFORE_ARRIVAL", "PASS_EXPIRES_BEFORE_ARRIVAL"}


def main():
    failures = 0
    for path in sorted(VECTORS.glob("*.json")):
        v = json.loads(path.read_text(encoding="utf-8"))
        problems = check(v)
        red = v["expected"]["verdict"] == "red"
        ok = bool(problems) == red
        if not problems and v.get("pass"):
            expected_ahead = [r for r in v["expected"]["reasons"] if r in AHEAD]
            ok = ok and look_ahead(v) == expected_ahead
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} {path.name}: expected {v['expected']['verdict']}, found {problems or 'genuine'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
