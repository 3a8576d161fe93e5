"""DKIM private keys: generation, file format, loading, and the keep/replace decision.

The round trips prove the file format choice: dkimpy signs with what we write (RSA) or
what dkimpy_private_key derives (Ed25519), and dkim.verify accepts the signature against
the record build_dkim_record returns, served through dnsfunc.
"""
import base64
import stat

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ansible_collections.mailauth.hardening.plugins.module_utils._dkim.keys import (
    ANCESTOR,
    GENERATE,
    KEEP,
    KEY_DIRECTORY,
    KEY_FILE,
    REPLACE,
    check_wanted,
    decide_action,
    describe_key,
    dkimpy_private_key,
    generate_private_key,
    load_private_key,
    mismatch_reason,
    node_fix,
    node_problem,
    opendkim_refuses,
    parse_key_mode,
    private_key_pem,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._records.dkim_record import (
    build_dkim_record,
    public_key_b64,
)
from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import join_txt, split_txt

MESSAGE = (b"From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: hello\r\n"
           b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nHello, Bob.\r\n")


@pytest.fixture(scope="module")
def rsa_key():
    return generate_private_key("rsa", 2048)


@pytest.fixture(scope="module")
def ed_key():
    return generate_private_key("ed25519")


def serve(records):
    """A dkimpy dnsfunc answering from {name: TXT strings}, joined as a resolver does."""
    def dnsfunc(name, timeout=5):
        strings = records.get(name.decode() if isinstance(name, bytes) else name)
        return join_txt(strings).encode() if strings is not None else None
    return dnsfunc


def sign_and_verify(key, record, algorithm):
    signature = dkim.sign(MESSAGE, b"s1", b"example.com", dkimpy_private_key(key),
                          signature_algorithm=algorithm)
    # Publish as DNS would: split into character-strings, the reader joins them.
    dns = serve({"s1._domainkey.example.com.": split_txt(record), "s1._domainkey.example.com": split_txt(record)})
    return dkim.verify(signature + MESSAGE, dnsfunc=dns)


def field_of(call, *args, **kwargs):
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value.field


def small_prime(start):
    """Next prime after start (Miller-Rabin with fixed bases: deterministic for this range)."""
    def is_prime(n):
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
            x = pow(a, d, n)
            if x in (1, n - 1):
                continue
            for _round in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                return False
        return True
    n = start | 1
    while not is_prime(n):
        n += 2
    return n


def rsa_512_key():
    """A 512-bit RSA key, which cryptography no longer generates but old hosts may hold."""
    p, q = small_prime((3 << 254) + 12345), small_prime((3 << 254) + 987654321)
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


# --- generation and format ---------------------------------------------------------------

@pytest.mark.parametrize("size", [1024, 2048, 3072, 4096])
def test_rsa_sizes(size):
    assert describe_key(generate_private_key("rsa", size)) == ("rsa", size)


def test_ed25519(ed_key):
    assert describe_key(ed_key) == ("ed25519", 256)


@pytest.mark.parametrize("key_type, size, field", [
    ("dsa", 2048, "type"), ("rsa", 512, "bits"), ("rsa", 2047, "bits"), ("rsa", 8192, "bits"),
    ("rsa", "2048", "bits"),
])
def test_refused_wishes(key_type, size, field):
    assert field_of(generate_private_key, key_type, size) == field


def test_size_is_ignored_for_ed25519():
    assert check_wanted("ed25519", 12345) == ("ed25519", 256)


def test_rsa_file_is_pkcs1_pem_and_ed25519_is_pkcs8_pem(rsa_key, ed_key):
    assert private_key_pem(rsa_key).startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert private_key_pem(ed_key).startswith(b"-----BEGIN PRIVATE KEY-----\n")
    for key in (rsa_key, ed_key):
        assert b"ENCRYPTED" not in private_key_pem(key)
        again = load_private_key(private_key_pem(key))
        assert public_key_b64(again) == public_key_b64(key)


# --- dkimpy signs, dkimpy verifies against our record ------------------------------------

def test_dkimpy_round_trip_rsa_2048(rsa_key):
    record = build_dkim_record("rsa", public_key_b64(rsa_key))
    assert dkimpy_private_key(rsa_key) == private_key_pem(rsa_key)  # the file itself
    assert sign_and_verify(rsa_key, record, b"rsa-sha256")


def test_dkimpy_round_trip_ed25519(ed_key):
    record = build_dkim_record("ed25519", public_key_b64(ed_key))
    assert len(base64.b64decode(dkimpy_private_key(ed_key))) == 32
    assert sign_and_verify(ed_key, record, b"ed25519-sha256")


def test_dkimpy_round_trip_testing_record(ed_key):
    assert sign_and_verify(ed_key, build_dkim_record("ed25519", public_key_b64(ed_key), testing=True),
                           b"ed25519-sha256")


def test_verify_fails_against_another_key(rsa_key):
    other = generate_private_key("rsa", 2048)
    assert not sign_and_verify(rsa_key, build_dkim_record("rsa", public_key_b64(other)), b"rsa-sha256")


def test_dkimpy_reads_pkcs8_rsa_too(rsa_key):
    pkcs8 = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    signature = dkim.sign(MESSAGE, b"s1", b"example.com", pkcs8)
    record = build_dkim_record("rsa", public_key_b64(rsa_key))
    assert dkim.verify(signature + MESSAGE, dnsfunc=serve({"s1._domainkey.example.com.": [record]}))


def test_dkimpy_cannot_sign_ed25519_with_the_pem_file(ed_key):
    """Why dkimpy_private_key exists: dkimpy wants the raw seed for Ed25519, not PEM."""
    with pytest.raises(dkim.KeyFormatError):
        dkim.sign(MESSAGE, b"s1", b"example.com", private_key_pem(ed_key), signature_algorithm=b"ed25519-sha256")


# --- loading existing files ----------------------------------------------------------------

def test_load_reads_pkcs8_rsa(rsa_key):
    pkcs8 = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    assert describe_key(load_private_key(pkcs8)) == ("rsa", 2048)


@pytest.mark.parametrize("make", [
    lambda k: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.BestAvailableEncryption(b"secret")),
    lambda k: b"not a key\n",
    lambda k: b"",
    lambda k: dkimpy_private_key(generate_private_key("ed25519")),
    lambda k: ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    lambda k: b"-----BEGIN RSA PRIVATE KEY-----\n" + b"A" * 70000,
])
def test_load_refuses_what_a_signer_cannot_use(rsa_key, make):
    with pytest.raises(InputError) as info:
        load_private_key(make(rsa_key), source="/etc/dkimkeys/x.key")
    assert info.value.field == "path" and "/etc/dkimkeys/x.key" in info.value.problem


def test_load_error_never_quotes_the_file(rsa_key):
    pem = private_key_pem(rsa_key)
    broken = pem[:200] + b"!" + pem[201:]
    with pytest.raises(InputError) as info:
        load_private_key(broken)
    body = b"".join(pem.splitlines()[1:-1]).decode()
    assert body[:40] not in str(info.value) and pem.splitlines()[1].decode() not in str(info.value)


# --- keep or replace ------------------------------------------------------------------------

def test_mismatch_reason(rsa_key, ed_key):
    assert mismatch_reason(rsa_key, "rsa", 2048) is None
    assert mismatch_reason(ed_key, "ed25519", 2048) is None
    assert "ed25519" in mismatch_reason(rsa_key, "ed25519", 2048)
    assert "4096" in mismatch_reason(rsa_key, "rsa", 4096)


@pytest.mark.parametrize("have, want, regenerate, action", [
    (None, ("rsa", 2048), "never", GENERATE),
    (None, ("rsa", 2048), "always", GENERATE),
    ("rsa", ("rsa", 2048), "never", KEEP),
    ("rsa", ("rsa", 2048), "on_mismatch", KEEP),
    ("rsa", ("rsa", 2048), "always", REPLACE),
    ("rsa", ("rsa", 4096), "never", KEEP),
    ("rsa", ("rsa", 4096), "on_mismatch", REPLACE),
    ("rsa", ("ed25519", 2048), "never", KEEP),
    ("rsa", ("ed25519", 2048), "on_mismatch", REPLACE),
    ("ed", ("ed25519", 4096), "on_mismatch", KEEP),
    ("ed", ("rsa", 2048), "on_mismatch", REPLACE),
])
def test_decide_action(rsa_key, ed_key, have, want, regenerate, action):
    existing = {"rsa": rsa_key, "ed": ed_key, None: None}[have]
    got, reason = decide_action(existing, want[0], want[1], regenerate)
    assert got == action and reason


def test_unusable_file_fails_unless_replacing_is_allowed():
    error = InputError("path", "/k does not hold a PEM private key.", "fix it")
    with pytest.raises(InputError):
        decide_action(None, "rsa", 2048, "never", load_error=error)
    assert decide_action(None, "rsa", 2048, "on_mismatch", load_error=error)[0] == REPLACE
    assert decide_action(None, "rsa", 2048, "always", load_error=error)[0] == REPLACE


def test_a_key_below_1024_bits_is_never_kept():
    small = rsa_512_key()
    assert small.key_size == 512
    assert field_of(decide_action, small, "rsa", 2048, "never") == "path"
    assert decide_action(small, "rsa", 2048, "on_mismatch")[0] == REPLACE


def test_decide_refuses_unknown_regenerate(rsa_key):
    assert field_of(decide_action, rsa_key, "rsa", 2048, "sometimes") == "regenerate"


# --- mode and directories --------------------------------------------------------------------

@pytest.mark.parametrize("mode, value", [
    ("0600", 0o600), ("600", 0o600), ("0640", 0o640), ("0o440", 0o440), (0o600, 0o600), ("0400", 0o400),
])
def test_accepted_modes(mode, value):
    assert parse_key_mode(mode) == value


@pytest.mark.parametrize("mode", ["0644", "0604", "0660", "4600", "u=rw", "rw-------", "0999", True, None, -1, 0o10000])
def test_refused_modes(mode):
    assert field_of(parse_key_mode, mode) == "mode"


@pytest.mark.parametrize("mode", [600, 640, 644, 400, 7777])
def test_an_unquoted_yaml_number_is_named_as_decimal(mode):
    with pytest.raises(InputError) as err:
        parse_key_mode(mode)
    assert err.value.field == "mode"
    assert "%d was read as a decimal number" % mode in err.value.problem
    assert "mode: '%04d'" % mode in err.value.fix


def test_an_octal_yaml_number_is_accepted_as_it_is():
    # YAML 1.1 reads an unquoted 0600 as octal: the module gets 384, which is 0o600.
    assert parse_key_mode(384) == 0o600 and parse_key_mode(416) == 0o640


def _names(uid):
    return {65534: "nobody (uid 65534)"}.get(uid, "uid %d" % uid)


def _node(kind, st_mode, uid=0, outsider=None, trusted=(0, 110)):
    return node_problem(kind, st_mode, uid, set(trusted), _names, lambda: outsider)


@pytest.mark.parametrize("kind, st_mode, uid, outsider, problem", [
    (KEY_DIRECTORY, 0o700, 0, None, None),
    (KEY_DIRECTORY, 0o750, 110, None, None),             # owned by the key's owner (opendkim)
    (KEY_DIRECTORY, 0o755, 65534, None, "owned by nobody (uid 65534)"),
    (KEY_DIRECTORY, 0o555, 65534, None, "owned by nobody"),   # its owner can chmod it back
    (KEY_DIRECTORY, 0o770, 0, None, "writable by its group"),
    (KEY_DIRECTORY, 0o757, 0, None, "writable by every user"),
    (KEY_DIRECTORY, 0o1777, 0, None, "writable by every user"),
    (ANCESTOR, 0o755, 0, None, None),
    (ANCESTOR, 0o775, 0, None, None),                    # a group that holds no one else
    (ANCESTOR, 0o775, 0, "alice", "writable by its group, which holds alice"),
    (ANCESTOR, 0o777, 0, None, "writable by every user"),
    (ANCESTOR, 0o1777, 0, None, None),                   # /tmp: sticky
    (ANCESTOR, 0o755, 1000, None, "owned by uid 1000"),
    (KEY_FILE, 0o600, 110, None, None),
    (KEY_FILE, 0o600, 65534, None, "owned by nobody"),
    (KEY_FILE, 0o620, 0, None, "writable by its group"),
    (KEY_FILE, 0o606, 0, None, "writable by every user"),
])
def test_node_problem_judges_each_node_as_opendkim_does(kind, st_mode, uid, outsider, problem):
    found = _node(kind, stat.S_IFDIR | st_mode if kind != KEY_FILE else stat.S_IFREG | st_mode, uid, outsider)
    if problem is None:
        assert found is None
    else:
        assert problem in found


def test_opendkim_refuses_a_sticky_world_writable_ancestor_that_node_problem_allows():
    assert opendkim_refuses(stat.S_IFDIR | 0o1777) and not opendkim_refuses(stat.S_IFDIR | 0o755)


def test_node_fix_says_what_to_run():
    owned = "is owned by nobody (uid 65534), not by root or the key's owner"
    assert node_fix(KEY_DIRECTORY, "/srv/keys", owned, " (owner: opendkim)").startswith("chown root /srv/keys")
    assert node_fix(ANCESTOR, "/srv", "is writable by every user", "").startswith("chmod go-w /srv")
    assert node_fix(KEY_FILE, "/k/s1.key", owned, " (owner: opendkim)").startswith("delete /k/s1.key")


def test_ed25519_key_from_another_tool_is_read():
    """A key from `openssl genpkey -algorithm ed25519` (PKCS#8) is the same format we write."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    assert pem == private_key_pem(key)
    assert describe_key(load_private_key(pem)) == ("ed25519", 256)
