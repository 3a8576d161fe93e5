"""Hostile inputs and planted files for dkim_key: each refused naming the field and the fix, nothing touched.

The unsafe trees are the ones OpenDKIM refuses ("key data is not secure"): a key directory or an
ancestor owned by another user (nobody) or writable by others, a key file someone else owns or
can write. Each case works in a directory of its own (tests/system/hostile/host_harness.py).
"""
import os
import pwd

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hostile.host_harness import Case, hostile_tests

NOBODY = pwd.getpwnam("nobody")


def pem(bits=2048, password=None):
    key = rsa.generate_private_key(65537, bits)
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption)


def key_in(keys, mode=0o600, uid=0, content=None):
    """A key file keys/s1.key, as someone left it."""
    keys.mkdir(exist_ok=True, mode=0o700)
    path = keys / "s1.key"
    path.write_bytes(pem() if content is None else content)
    os.chown(str(path), uid, -1)
    os.chmod(str(path), mode)


def planted(directory):
    """A key in a directory owned by nobody, 0755: nobody put it there and can swap it."""
    key_in(directory / "keys")
    os.chown(str(directory / "keys"), NOBODY.pw_uid, NOBODY.pw_gid)
    os.chmod(str(directory / "keys"), 0o755)


def chmod_keys(mode):
    def setup(directory):
        key_in(directory / "keys")
        os.chmod(str(directory / "keys"), mode)
    return setup


def ancestor(mode, uid=0, gid=0):
    def setup(directory):
        top = directory / "top"
        top.mkdir(mode=0o755)
        key_in(top / "keys")
        os.chown(str(top), uid, gid)
        os.chmod(str(top), mode)
    return setup


def linked_into_planted(directory):
    """keys -> a directory nobody owns: the path as written looks fine, the resolved one is not."""
    planted_dir = directory / "elsewhere"
    planted_dir.mkdir(mode=0o755)
    planted(planted_dir)
    os.symlink(str(planted_dir / "keys"), str(directory / "keys"))


def key_file(**kwargs):
    return lambda directory: key_in(directory / "keys", **kwargs)


def symlinked_key(directory):
    key_in(directory / "keys")
    os.symlink(str(directory / "keys" / "s1.key"), str(directory / "keys" / "link.key"))


def directory_at_path(directory):
    (directory / "keys").mkdir(mode=0o700)
    (directory / "keys" / "s1.key").mkdir(mode=0o700)


def keys_dir(directory):
    (directory / "keys").mkdir(mode=0o700)


def task(path="{dir}/keys/s1.key", **options):
    return {"mailauth.hardening.dkim_key": dict(dict(path=path, selector="s1", domain="example.com"), **options)}


CASES = [
    Case("planted_key_nobody_dir", task(), "path", "chown root", setup=planted),
    Case("planted_key_nobody_dir_check", task(), "path", "chown root", setup=planted, check=True),
    Case("planted_key_nobody_dir_regenerate", task(regenerate="always"), "path", "chown root", setup=planted),
    Case("planted_key_resolved_through_symlink", task(), "path", "chown root", setup=linked_into_planted),
    Case("key_file_owned_by_nobody", task(), "path", "delete", setup=key_file(uid=NOBODY.pw_uid)),
    Case("key_file_group_writable", task(), "path", "chmod go-w", setup=key_file(mode=0o660)),
    Case("key_file_world_writable", task(mode="0600"), "path", "delete", setup=key_file(mode=0o606)),
    Case("key_dir_world_writable", task(), "path", "chmod go-w", setup=chmod_keys(0o777)),
    Case("key_dir_group_writable", task(), "path", "chmod go-w", setup=chmod_keys(0o770)),
    Case("key_dir_sticky_world_writable", task(), "path", "chmod go-w", setup=chmod_keys(0o1777)),
    Case("ancestor_world_writable", task(path="{dir}/top/keys/s1.key"), "path", "chmod go-w", setup=ancestor(0o777)),
    Case("ancestor_owned_by_nobody", task(path="{dir}/top/keys/s1.key"), "path", "chown root",
         setup=ancestor(0o755, uid=NOBODY.pw_uid)),
    Case("ancestor_writable_by_a_shared_group", task(path="{dir}/top/keys/s1.key"), "path", "chmod go-w",
         setup=ancestor(0o775, gid=NOBODY.pw_gid)),
    Case("mode_unquoted_600", task(mode=600), "mode", "quote the octal mode: mode: '0600'", setup=keys_dir),
    Case("mode_world_readable", task(mode="0644"), "mode", "'0600'", setup=keys_dir),
    Case("mode_symbolic", task(mode="u=rw"), "mode", "quote an octal mode", setup=keys_dir),
    Case("mode_setuid", task(mode="4600"), "mode", "'0600'", setup=keys_dir),
    Case("owner_missing", task(owner="no-such-dkim-user"), "owner", "create it first", setup=keys_dir),
    Case("group_missing", task(group="no-such-dkim-group"), "group", "create it first", setup=keys_dir),
    Case("selector_underscore", task(selector="bad_selector"), "selector", "e.g. s202611", setup=keys_dir),
    Case("domain_with_space", task(domain="exa mple.com"), "domain", "e.g. example.com", setup=keys_dir),
    Case("path_relative", task(path="keys/s1.key"), "path", "give the full path", setup=keys_dir),
    Case("path_symlink", task(path="{dir}/keys/link.key"), "path", "real key file", setup=symlinked_key),
    Case("path_is_a_directory", task(), "path", "choose another path", setup=directory_at_path),
    Case("path_directory_missing", task(path="{dir}/missing/s1.key"), "path", "create it first", setup=keys_dir),
    Case("file_not_a_key", task(), "path", "regenerate: on_mismatch", setup=key_file(content=b"not a key\n")),
    Case("file_encrypted_key", task(), "path", "unencrypted", setup=key_file(content=pem(password=b"pw"))),
]
outcomes, test_hostile_dkim_key, test_hostile_dkim_key_run_shows_no_secret = hostile_tests(CASES)
