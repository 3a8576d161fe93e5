"""A `plesk` that answers from a table, for unit tests of _plesk and the Plesk modules (no process runs)."""

SEEN_HELP = """Usage: mailserver command [<param>]
--set-maps-status      <true|false>   Switches DNSBL on or off.
--add-maps-zone        <zones>        Adds DNSBL zones.
--sign-outgoing-mail   <true|false>   Allows DKIM signing.
--verify-incoming-mail <true|false>   Verifies DKIM of incoming mail.
--help or -h
"""
FULL_HELP = SEEN_HELP + """--remove-maps-zone <zones>
--set-spf-status <true|false>
--set-spf-behavior <1..6>
--set-spf-rules <rules>
--set-spf-guess <rules>
--set-spf-exp <text>
--set-dmarc-status <true|false>
"""


def db(sql):
    return ("db", "-Ne", sql)


def rows(*lines):
    """`plesk db -Ne` output for rows given as tuples."""
    return (0, "".join("\t".join(line) + "\n" for line in lines), "")


MISSING_TABLE = (1, "", "ERROR 1146 (42S02) at line 1: Table 'psa.ServiceNodeConfiguration' doesn't exist")
OK = (0, "", "")


class Canned(object):
    """Call with argv (what follows `plesk`); the answer for it is (rc, out, err), or a list of
    those consumed in order with the last one repeating. Unknown argv fail like a bad option."""

    def __init__(self, answers):
        self.answers = dict((tuple(key), value) for key, value in answers.items())
        self.calls = []

    def __call__(self, argv):
        argv = list(argv)
        self.calls.append(argv)
        answer = self.answers.get(tuple(argv))
        if answer is None:
            return 1, "", "canned plesk: no answer for %r" % (argv,)
        if isinstance(answer, list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer

    def changes(self):
        """The calls that are not reads."""
        return [c for c in self.calls if c[0] != "db" and c[-1] != "--help"]
