"""The layers of plugins/module_utils, read from every import in plugins/ (docs/layers.md).

Data flows down: modules and filters use features, features use the DNS and host adapters,
adapters use the record logic, everything may use _core. A layer never imports upward or
sideways, and the record logic never imports dnspython nor does I/O.
"""
import ast
import os

import pytest

PLUGINS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins"))
PACKAGE = "ansible_collections.mailauth.hardening.plugins."
BOTTOM = {"_core"}
RECORDS = BOTTOM | {"_records"}
ADAPTERS = RECORDS | {"_hosts", "_dkim", "_dns", "_web"}
FEATURES = ("_audit", "_gates", "_plan", "_drift", "_reports", "_publish")
# What each layer may import (its own folder always).
MAY_IMPORT = {
    "_core": set(),
    "_records": BOTTOM,
    "_hosts": RECORDS,
    "_dkim": RECORDS,
    "_web": RECORDS,
    # The Plesk DNS provider runs `plesk bin dns` through the Plesk host adapter (LC_ALL=C, its errors).
    "_dns": RECORDS | {"_hosts"},
}
MAY_IMPORT.update((feature, ADAPTERS) for feature in FEATURES)
TOP = ("modules", "filter", "doc_fragments")
# Pure layers: no DNS library, no network, no processes, no files.
PURE = ("_core", "_records")
IMPURE_MODULES = ("dns", "socket", "subprocess", "os", "shutil", "tempfile", "imaplib", "ssl", "http", "urllib.request",
                  "lexicon")
IMPURE_NAMES = ("open", "__import__")


def plugin_files():
    for folder, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(folder, name), PLUGINS)


def layer_of(relpath):
    """'_dns' for module_utils/_dns/providers/base.py, 'modules' for modules/x.py."""
    parts = relpath.split(os.sep)
    if parts[0] == "module_utils":
        return parts[1] if len(parts) > 2 else None
    return parts[0]


def imports(tree):
    """[(line, imported module)] for every import statement, at any depth (imports inside functions too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
            # "from ...module_utils._x import y": y may be a submodule of the package.
            found += [(node.lineno, "%s.%s" % (node.module, alias.name)) for alias in node.names]
    return found


def target_layer(module):
    """The layer an import reaches, or None when it is outside the collection's plugins."""
    if module.startswith("."):
        return "relative import"
    if not module.startswith(PACKAGE):
        return None
    parts = module[len(PACKAGE):].split(".")
    if parts[0] == "module_utils":
        return parts[1] if len(parts) > 1 else None
    return parts[0]


def layer_problems(source, layer):
    """Imports of ``source`` (in ``layer``) that go up or sideways, as 'line: imports X: why'."""
    bad = []
    for line, module in imports(ast.parse(source)):
        target = target_layer(module)
        if target is None or target == layer:
            continue
        if target == "relative import":
            bad.append("%d: a relative import (ansible-test wants the full ansible_collections path)" % line)
        elif layer in TOP:
            if target in TOP:
                bad.append("%d: imports %s: a plugin imports only module_utils" % (line, module))
        elif target not in MAY_IMPORT[layer]:
            bad.append("%d: imports %s: %s may import only %s" % (line, module, layer, sorted(MAY_IMPORT[layer])))
    return bad


def purity_problems(source):
    """What makes ``source`` more than record logic: a DNS library, network, processes, files."""
    tree = ast.parse(source)
    bad = ["%d: imports %s" % (line, module) for line, module in imports(tree)
           if any(module == name or module.startswith(name + ".") for name in IMPURE_MODULES)]
    bad += ["%d: calls %s()" % (node.lineno, node.func.id) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in IMPURE_NAMES]
    return bad


def read(relpath):
    with open(os.path.join(PLUGINS, relpath)) as handle:
        return handle.read()


FILES = list(plugin_files())


def test_every_module_utils_file_is_in_a_layer():
    stray = [path for path in FILES if path.startswith("module_utils") and layer_of(path) not in MAY_IMPORT]
    assert not stray, "files of plugins/module_utils outside the layer folders %s: %s" % (sorted(MAY_IMPORT), stray)


@pytest.mark.parametrize("relpath", FILES)
def test_imports_go_down_only(relpath):
    bad = layer_problems(read(relpath), layer_of(relpath))
    assert not bad, "%s: %s" % (relpath, "; ".join(bad))


@pytest.mark.parametrize("relpath", [path for path in FILES if layer_of(path) in PURE])
def test_record_logic_is_pure(relpath):
    bad = purity_problems(read(relpath))
    assert not bad, "%s (record logic: no DNS library, no I/O; take a resolver or text instead): %s" % (relpath, bad)


UPWARD = ("def f():\n"
          "    from ansible_collections.mailauth.hardening.plugins.module_utils._dns.resolver import dns_lookup\n")


@pytest.mark.parametrize("source, layer, problem", [
    (UPWARD, "_records", "_records may import only ['_core']"),       # upward, hidden in a function
    (UPWARD.replace("_dns.resolver", "_hosts.plesk"), "_dkim", "_dkim may import only"),  # sideways
    (UPWARD.replace("_dns.resolver", "_publish.dns_txt_task"), "_gates", "_gates may import only"),
    ("from ansible_collections.mailauth.hardening.plugins.module_utils import _dns\n", "_records", "imports"),
    ("from ansible_collections.mailauth.hardening.plugins.modules import dns_txt\n", "filter", "only module_utils"),
    ("from . import x\n", "_records", "relative"),
])
def test_layer_problems_are_found(source, layer, problem):
    assert problem in " ".join(layer_problems(source, layer))


@pytest.mark.parametrize("source", ["import dns.resolver\n", "from socket import getaddrinfo\n", "import subprocess\n",
                                    "def f(path):\n    return open(path).read()\n", "import os.path\n"])
def test_impure_record_logic_is_found(source):
    assert purity_problems(source)


def module_name(relpath):
    return PACKAGE + relpath[:-3].replace(os.sep, ".").replace(".__init__", "")


def test_no_import_cycles():
    """Not even hidden in a function: a cycle means two files that are one."""
    modules = dict((module_name(path), path) for path in FILES)
    graph = dict((name, sorted(set(m for _line, m in imports(ast.parse(read(path))) if m in modules and m != name)))
                 for name, path in modules.items())
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for target in graph[node]:
            if state.get(target) == "open":
                cycles.append(" -> ".join(m[len(PACKAGE):] for m in stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles
