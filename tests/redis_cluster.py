"""A real Redis Cluster on loopback ports: three primaries, each with a replica, as
`redis-server` processes in cluster mode joined by `redis-cli --cluster create`."""

import shutil
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import PATIENCE, free_port

NODE_TIMEOUT_MS = 1000  # how soon a primary that stopped answering is failed over


class RedisCluster:
    def __init__(self, directory: Path, nodes: int = 6) -> None:
        self.directory = directory
        self.ports = [free_port() for _ in range(nodes)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """A URL naming every node."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def url_of(self, port: int) -> str:
        """A URL naming one node only: the client finds the others from it."""
        return f"redis+cluster://127.0.0.1:{port}"

    def start(self) -> None:
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if server is None or cli is None:
            raise FileNotFoundError("redis-server and redis-cli must be on PATH")
        for index in range(len(self.ports)):
            self._start_node(server, index)
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self._until(self.healthy, "every node sees the cluster ok with every slot served")
        self._until(self.replicas_in_sync, "every replica is in sync with its primary")

    def _start_node(self, server: str, index: int, attempts: int = 5) -> None:
        """Start node `index`, on fresh ports if the ones picked were taken meanwhile: a
        free port is only free until another process binds it, and a node that cannot
        bind its port exits at once."""
        for _ in range(attempts):
            port = self.ports[index]
            process = self._spawn(server, port)
            self.processes[port] = process
            self._until(partial(self._settled, process, port), f"node {port} answers or exits")
            if process.poll() is None:
                return
            del self.processes[port]
            self.ports[index] = free_port()
        raise RuntimeError(f"Redis Cluster: no node started in {attempts} tries on free ports")

    def _settled(self, process: subprocess.Popen[bytes], port: int) -> bool:
        """The node has exited, or answers on `port` as itself (not some other server there)."""
        return (
            process.poll() is not None
            or self._ask(port, "INFO", "server")["process_id"] == process.pid
        )

    def _spawn(self, server: str, port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                server,
                "--port", str(port),
                "--cluster-port", str(free_port()),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", f"nodes-{port}.conf",
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                # A replica takes over however long ago it last heard its primary.
                "--cluster-replica-validity-factor", "0",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self._directory_of(port)),
                "--logfile", "redis.log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def healthy(self) -> bool:
        for port in self.live_ports():
            info = self._ask(port, "CLUSTER", "INFO").decode()
            if "cluster_state:ok" not in info or "cluster_slots_ok:16384" not in info:
                return False
        return True

    def replicas_in_sync(self) -> bool:
        roles = [self._ask(port, "INFO", "replication") for port in self.live_ports()]
        replicas = [info for info in roles if info["role"] == "slave"]
        return len(replicas) == len(self.ports) // 2 and all(
            info["master_link_status"] == "up" for info in replicas
        )

    def _directory_of(self, port: int) -> Path:
        path = self.directory / str(port)
        path.mkdir(exist_ok=True)
        return path

    def live_ports(self) -> list[int]:
        return [port for port, process in self.processes.items() if process.poll() is None]

    def primary_for(self, channel: str) -> int:
        """The port of the primary that owns `channel`'s slot now."""
        port = self.live_ports()[0]
        slot = int(self._ask(port, "CLUSTER", "KEYSLOT", channel))
        for start, end, primary, *_ in self._ask(port, "CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return int(primary[1])
        raise AssertionError(f"no node owns slot {slot}")

    def kill(self, port: int) -> None:
        self.processes[port].kill()
        self.processes[port].wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    def _ask(self, port: int, *command: str) -> Any:
        # One try: the caller polls, and something else on the port must not hold it up.
        once = Retry(NoBackoff(), retries=0)
        with redis.Redis(
            port=port, socket_connect_timeout=0.5, socket_timeout=2, retry=once
        ) as client:
            return client.execute_command(*command)

    def _until(self, condition: Callable[[], object], what: str, seconds: float = PATIENCE) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"Redis Cluster: never happened: {what}")
