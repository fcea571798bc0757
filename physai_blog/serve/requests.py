"""Who may ask the preview server what: loopback addresses, ``Host:`` names, request targets.

Pure functions of strings (no sockets but ``getaddrinfo``), so each rule is tested on its own;
``handler.py`` turns a ``Refused`` into the short 4xx answer.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import unquote_to_bytes

# Longest request target answered (414 beyond): site paths are short, so 2048 bytes is ample
# for any real page and far below what the standard library would read (64 KiB).
MAX_TARGET = 2048
METHODS = "GET, HEAD"                  # the preview is read-only
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class Refused(Exception):
    """A request this server does not answer: the status and why (one line)."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status, self.why = status, why


def is_loopback(host: str) -> bool:
    """True if every address ``host`` names is a loopback address."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback
                               for info in infos)


def request_path(target: str) -> str:
    """The percent-decoded path of a request target, or ``Refused`` with the 4xx to answer."""
    if len(target) > MAX_TARGET:
        raise Refused(414, f"the request target is longer than {MAX_TARGET} bytes")
    if "\x00" in target:
        raise Refused(400, "NUL byte in the request target")
    if not target.startswith("/"):
        raise Refused(400, "the request target is not a path")
    # browsers percent-encode everything else, so the raw target and its decoding agree
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        raise Refused(400, "raw control, space or non-ASCII byte in the request target")
    path = target.split("?", 1)[0].split("#", 1)[0]
    if BAD_PERCENT.search(path):
        raise Refused(400, "invalid percent-encoding in the path")
    try:
        path = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the path is not UTF-8 once percent-decoded") from None
    if "\x00" in path:
        raise Refused(400, "NUL byte in the path")
    if any(c < " " or c == "\x7f" for c in path):
        raise Refused(400, "control character in the path")
    if ".." in re.split(r"[/\\]", path):   # backslashes too: a separator on other systems
        raise Refused(400, "'..' segment in the path")
    return path


def host_name(name: str) -> str | None:
    """``name`` as ``Host:`` names are compared: lower case, IP addresses in their one spelling
    (IPv6 in brackets); None if it is not a name."""
    name = name.strip().lower()
    bracketed = name.startswith("[") and name.endswith("]")
    try:
        address = ipaddress.ip_address(name[1:-1] if bracketed else name)
    except ValueError:
        return None if not name or "[" in name or ":" in name else name
    if address.version == 6:
        return f"[{address.compressed}]"
    return None if bracketed else str(address)


def host_names(host: str, bound: str) -> frozenset[str]:
    """The names a request to this server may give in ``Host:``: the address it listens on,
    the host it was given (``--host``) and ``localhost`` when it listens on loopback."""
    names = {host_name(host), host_name(bound)}
    address = ipaddress.ip_address(bound.split("%")[0])
    if address.is_loopback:
        names.add("localhost")
    elif address.is_unspecified:   # every address, loopback among them
        names |= {"127.0.0.1", "localhost"} | ({"[::1]"} if address.version == 6 else set())
    return frozenset(names - {None})


def host_allowed(value: str, names: frozenset[str], port: int) -> bool:
    """True if the ``Host:`` value ``host[:port]`` names one of ``names`` and, if it has a
    port, ``port`` (no port: the client used the default one; the name is what matters)."""
    value = value.strip()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        name += bracket
    else:
        name = value.partition(":")[0]
        rest = value[len(name):]
    if rest and not rest.startswith(":"):
        return False
    digits = rest[1:]
    if digits and not (digits.isascii() and digits.isdigit() and int(digits) == port):
        return False
    return host_name(name) in names
