"""Hosts for the several-hosts test: network namespaces, each joined to the
machine's own (root) namespace by a veth pair on a /30 of its own, so that a
process run in one reaches the root namespace's services only over that
virtual link, and nothing else (no loopback of the machine's, no default
route, no other host).

Needs root and `ip` (iproute2). Every namespace and interface is named with
the test's pid, and only those this module made are removed, by name.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

IP = shutil.which("ip") or "/bin/ip"
# What `ip` says when the kernel or the container will not make namespaces or veths.
REFUSALS = ("Operation not permitted", "Permission denied", "not supported", "Unknown device type")


class NetworkUnavailable(Exception):
    """The kernel or the container will not let us make namespaces or veths."""


@dataclass(frozen=True)
class Host:
    name: str  # the network namespace
    address: str  # the host's own address
    gateway: str  # the root namespace's end of its link: where the services listen for it

    @property
    def wrap(self) -> list[str]:
        """The command prefix that runs a command on this host."""
        return [IP, "netns", "exec", self.name]

    def connects(self, *targets: tuple[str, int]) -> dict[str, str]:
        """Try a TCP connection from this host to each (address, port):
        "ok", or the error's name."""
        probe = (
            "import json, socket, sys\n"
            "out = {}\n"
            "for host, port in json.loads(sys.argv[1]):\n"
            "    try:\n"
            "        socket.create_connection((host, port), timeout=2).close()\n"
            "        out[f'{host}:{port}'] = 'ok'\n"
            "    except OSError as exc:\n"
            "        out[f'{host}:{port}'] = type(exc).__name__\n"
            "print(json.dumps(out))\n"
        )
        done = subprocess.run(
            [*self.wrap, sys.executable, "-c", probe, json.dumps(targets)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(done.stdout)


def namespace_of(pid: int) -> str:
    """The name of the network namespace process `pid` is in ("" for the root one)."""
    done = subprocess.run([IP, "netns", "identify", str(pid)], capture_output=True, text=True, timeout=10)
    return done.stdout.strip()


def ip_problem() -> str:
    """Why `ip` cannot be used here, or ""."""
    if not os.path.exists(IP):
        return "`ip` not found (install iproute2)"
    return ""


class VirtualNetwork:
    """Namespaces `ex-<role>-<pid>`, each with a veth pair to the root
    namespace: 10.213.N.(4k+1) on the root's end, .(4k+2) on the host's."""

    def __init__(self, roles: tuple[str, ...]):
        self.pid = os.getpid()
        self.namespaces: list[str] = []
        self.links: list[str] = []
        self.octet = self._free_octet()
        self.subnet = f"10.213.{self.octet}.0/24"
        self.hosts: dict[str, Host] = {}
        try:
            for index, role in enumerate(roles):
                self.hosts[role] = self._add_host(index, role)
        except subprocess.CalledProcessError as exc:
            self.remove()
            why = f"`{' '.join(exc.cmd)}` failed: {exc.stderr.strip()}"
            if any(refusal in exc.stderr for refusal in REFUSALS):
                raise NetworkUnavailable(why) from exc
            raise RuntimeError(why) from exc

    def _free_octet(self) -> int:
        """A 10.213.N.0/24 that no interface or route on this machine uses."""
        used = _ip("-o", "addr", "show") + _ip("route", "show", "table", "all")
        for step in range(250):
            octet = (self.pid + step) % 250 + 1
            if f"10.213.{octet}." not in used:
                return octet
        raise NetworkUnavailable("every 10.213.N.0/24 is in use on this machine")

    def _add_host(self, index: int, role: str) -> Host:
        namespace = f"ex-{role}-{self.pid}"
        # Interface names are at most 15 bytes; the pid keeps them unique on the machine.
        outside, inside = f"ex{index}-{self.pid}r", f"ex{index}-{self.pid}n"
        gateway, address = f"10.213.{self.octet}.{4 * index + 1}", f"10.213.{self.octet}.{4 * index + 2}"
        _ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        self.links.append(outside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("addr", "add", f"{gateway}/30", "dev", outside)
        _ip("link", "set", outside, "up")
        inns = ["-n", namespace]
        _ip(*inns, "addr", "add", f"{address}/30", "dev", inside)
        _ip(*inns, "link", "set", inside, "up")
        _ip(*inns, "link", "set", "lo", "up")
        return Host(namespace, address, gateway)

    @property
    def gateways(self) -> tuple[str, ...]:
        return tuple(host.gateway for host in self.hosts.values())

    def remove(self) -> None:
        """Delete what this object made, by name. Stop the processes running
        in the namespaces first: a namespace lives on while a process is in it."""
        for link in self.links:
            subprocess.run([IP, "link", "del", link], capture_output=True, timeout=10)
        for namespace in self.namespaces:
            subprocess.run([IP, "netns", "del", namespace], capture_output=True, timeout=10)
        self.links.clear()
        self.namespaces.clear()


def _ip(*args: str) -> str:
    return subprocess.run([IP, *args], capture_output=True, text=True, timeout=10, check=True).stdout
