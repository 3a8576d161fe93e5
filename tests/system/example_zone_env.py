"""The example.test zone the harden and drift system tests publish into: a loopback BIND serving it,
with the MX the SPF record names. A fixture module: importing `named` is using it."""
import pytest
from dns_servers import run_named, zone_text

ZONE = "example.test"
MX_IP = "203.0.113.10"


@pytest.fixture
def named(tmp_path):
    records = ["@ IN MX 10 mx1.%s." % ZONE, "mx1 IN A %s" % MX_IP]
    with run_named({ZONE: zone_text(ZONE, records)}, directory=tmp_path / "named") as server:
        yield server
