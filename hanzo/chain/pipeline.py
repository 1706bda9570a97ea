"""The embedded EVM in a second process: EmbeddedDriver's interface, the transactions run by a child.

Chain mode's books predict every transaction's outcome to the wei (hanzo.sim.onchain), so the loop that
computes them need not wait for revm: `PipelinedDriver.send` encodes the calldata here and queues it,
and the queued transactions go to the child in batches (a day's, or `BATCH` of them) while this process
goes on with the next day's books. The child (started by `spawn`: pyrevm's objects cannot be pickled or
safely forked, so it deploys the suite itself, by the same plan, into its own revm) runs each batch in
order, mines where a day starts, compacts as `EmbeddedChain.mine` does, and confirms each batch.

Nothing is lost silently: a transaction that reverts stops the child's work, and the next `send`,
`start_day` or `call` here raises DriverError with that transaction's own label ("day 12: stake: ...")
and its revert; a child that dies raises DriverError naming the first transaction it had not confirmed;
neither waits forever (the child's liveness is checked every second while waiting). At most `AHEAD`
batches are unconfirmed at a time. A `call` (a view) waits for every transaction queued before it, then
runs in the child: chain mode's day loop reads nothing from the chain (its books hold what it needs), so
it syncs only where governance reads the Governor, and for the reconciliation.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import traceback
from typing import Any, Callable

from hanzo.econ.params import Tokenomics

BATCH = 4_096  # transactions in a batch sent to the child (a day's are split at this size)
AHEAD = 48  # batches unconfirmed at most (a few days of 10,000 accounts) before `send` waits for the child
POLL_S = 1.0  # while waiting for the child: how often its liveness is checked

# the contracts the suite's plan deploys or attaches (hanzo.chain.plan): read here once, handed to the child
SUITE = ("HanzoTimelock", "HanzoToken", "HanzoTreasury", "StakedHanzo", "HanzoGovernor", "TrainingRewards",
         "ModelNFT", "TeamVesting", "EmissionSchedule", "TestUSD", "HanzoPool", "Genesis", "HamiltonianMarketMaker")

_TX, _MINE, _FUND = 0, 1, 2  # a batch's entries: (_TX, sender, contract name, method, calldata, what),
# (_MINE, timestamp), (_FUND, addresses, wei)


def _serve(conn: Any, params: Tokenomics, artifacts: Any) -> None:
    """The child: deploy the suite, then run what arrives in order, until "close" or the pipe closes."""
    inbox: queue.Queue = queue.Queue()

    def read() -> None:  # keeps the pipe drained while revm works, so the parent never waits to send
        while True:
            try:
                inbox.put(conn.recv())
            except (EOFError, OSError):
                inbox.put(("close",))
                return

    try:
        from .drivers import EmbeddedDriver
        from .evm import EVMError

        d = EmbeddedDriver(params, artifacts=artifacts)
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent says it
        conn.send(("failed", -1, f"deploying to the embedded EVM (its process): {exc}"))
        return
    chain = d.chain
    conn.send(("ready", {name: (c.address, c.artifact) for name, c in d.contracts.items()}, chain.chain_id,
               chain.timestamp))
    threading.Thread(target=read, daemon=True).start()
    failed = False
    while True:
        msg = inbox.get()
        kind = msg[0]
        if kind == "close":
            try:
                conn.send(("closed", chain.transactions - d._deployment))
            except OSError:  # the parent has gone (it abandoned the run)
                pass
            return
        if kind == "batch":
            _, seq, entries = msg
            if failed:
                continue
            what = "the batch"
            try:
                contracts = d.contracts
                for entry in entries:
                    if entry[0] == _TX:
                        _, sender, name, method, data, what = entry
                        contract = contracts[name]
                        chain.push(sender, contract, contract.function(method), data)
                    elif entry[0] == _MINE:
                        what = f"mining the block at {entry[1]}"
                        chain.mine_until(entry[1])
                    else:
                        chain.fund(entry[1], entry[2])
            except EVMError as exc:
                failed = True
                conn.send(("failed", seq, f"{what}: {exc}"))
                continue
            except BaseException as exc:  # noqa: BLE001 - an error of the child's own: named, with its trace
                failed = True
                conn.send(("failed", seq, f"{what}: the EVM's process failed: {type(exc).__name__}: {exc}\n"
                                          f"{traceback.format_exc()}"))
                continue
            conn.send(("done", seq))
        elif kind == "call":
            _, ask, name, method, data = msg
            if failed:
                conn.send(("error", ask, "the EVM's process stopped at an earlier failure"))
                continue
            try:
                contract = d.contracts[name]
                conn.send(("value", ask, chain.call_data(contract, contract.function(method), data)))
            except EVMError as exc:
                conn.send(("error", ask, str(exc)))


class PipelinedDriver:
    """EmbeddedDriver's operations, the EVM in a child process (the module's docstring). The roles are the
    same derived accounts, the contracts the same addresses, so a run is the one-process run, transaction
    for transaction. `context`: multiprocessing's start method (spawn: the parent may hold threads)."""

    def __init__(self, params: Tokenomics, log=lambda _m: None, *, context: str = "spawn"):
        from .evm import ETHER, Artifacts, Contract, derived_account

        named = {label: derived_account(label) for label in
                 ("deployer", "oracle", "provider", "model_developers", "sale_and_liquidity", "speculator",
                  "team_beneficiary")}
        self.deployer, self.oracle, self.provider = named["deployer"], named["oracle"], named["provider"]
        self.developer, self.whale, self.extra = (named["model_developers"], named["sale_and_liquidity"],
                                                  named["speculator"])
        self.team = named["team_beneficiary"]  # TeamVesting's beneficiary
        self._ether = 1_000 * ETHER  # what EmbeddedChain.fund gives
        artifacts = Artifacts()
        for name in SUITE:  # read once here (Ape's compile output); the child gets them with its arguments
            artifacts[name]
        artifacts._proj = None  # the project object stays here; the child loads its own only for a name not read
        ctx = mp.get_context(context)
        self._conn, child = ctx.Pipe()
        log("deploying to the embedded EVM (in its own process)")
        self._proc = ctx.Process(target=_serve, args=(child, params, artifacts), daemon=True,
                                 name="hanzo-embedded-evm")
        self._proc.start()
        child.close()  # only the child holds its end: a dead child is EOF here, not a wait
        self._pending: list[tuple] = []
        self._labels: dict[int, str] = {}  # each unconfirmed batch's first transaction's label
        self._seq = self._sent = self._made = self._asked = 0
        self._answers: dict[int, tuple] = {}  # a call's answer, by its number, until it is read
        self._closed = False
        msg = self._receive("the suite's deployment")
        if msg[0] != "ready":
            self._stop(graceful=True)
            raise self._error(msg)
        _, found, self.chain_id, self._time = msg
        self.contracts = {name: Contract(name, address, artifact) for name, (address, artifact) in found.items()}

    # ------------------------------------------------------------------ the pipe

    def _error(self, msg: tuple) -> Exception:
        from .drivers import DriverError

        if msg[0] == "failed":
            return DriverError(f"{msg[2]} (in the EVM's process; the run stopped there)")
        return DriverError(f"the EVM's process answered {msg[0]!r} unexpectedly")

    def _receive(self, waiting_for: str) -> tuple:
        """The child's next message, checking every POLL_S that it is alive."""
        from .drivers import DriverError

        while True:
            try:
                if self._conn.poll(POLL_S):
                    return self._conn.recv()
            except (EOFError, OSError):  # the child's end is closed: it is ending, or has ended
                self._proc.join(POLL_S)
            if not self._proc.is_alive() or self._conn.closed:
                self._proc.join(1)
                raise DriverError(f"the EVM's process ended (exit code {self._proc.exitcode}) before confirming "
                                  f"{waiting_for}; nothing after that was confirmed")

    def _unconfirmed(self) -> str:
        first = min(self._labels) if self._labels else None
        return f"the transactions from {self._labels[first]!r} on" if first is not None else "the last request"

    def _confirm(self, msg: tuple) -> None:
        if msg[0] == "done":
            del self._labels[msg[1]]
        elif msg[0] in ("value", "error"):
            self._answers[msg[1]] = msg
        else:
            raise self._error(msg)

    def _settle(self, wait: bool) -> None:
        """Read the child's confirmations: those already there, and then (with `wait`) until AHEAD batches
        or fewer are unconfirmed."""
        while True:
            try:
                ready = self._conn.poll(0)
            except (EOFError, OSError):
                ready = False
            if ready:
                self._confirm(self._receive(self._unconfirmed()))
            elif wait and len(self._labels) > AHEAD:
                self._confirm(self._receive(self._unconfirmed()))
            else:
                if not self._proc.is_alive():
                    self._receive(self._unconfirmed())  # raises, naming the first unconfirmed transaction
                return

    def _post(self, msg: tuple) -> None:
        from .drivers import DriverError

        try:
            self._conn.send(msg)
        except (BrokenPipeError, EOFError, OSError):
            self._proc.join(1)
            raise DriverError(f"the EVM's process ended (exit code {self._proc.exitcode}) before confirming "
                              f"{self._unconfirmed()}") from None

    def flush(self) -> None:
        """Send what is queued as a batch (and read the confirmations that came)."""
        if self._pending:
            self._seq += 1
            first = next((e[5] for e in self._pending if e[0] == _TX), "a block or a funding")
            self._labels[self._seq] = first
            batch, self._pending = self._pending, []
            self._post(("batch", self._seq, batch))
        self._settle(wait=True)

    def sync(self) -> None:
        """Wait until the child has run everything sent (raising its failure, if any)."""
        self.flush()
        while self._labels:
            self._confirm(self._receive(self._unconfirmed()))

    def close(self) -> None:
        """Confirm everything sent, then stop the child."""
        if self._closed:
            return
        try:
            self.sync()
            self._post(("close",))
            msg = self._receive("closing")
            if msg[0] != "closed":
                raise self._error(msg)
        finally:
            self._stop(graceful=True)

    def abandon(self) -> None:
        """Stop the child without waiting for its work (the run failed here)."""
        if not self._closed:
            self._stop(graceful=False)

    def _stop(self, graceful: bool = False) -> None:
        self._closed = True
        self._conn.close()
        if graceful:
            self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)

    # ------------------------------------------------------------------ the driver's operations

    @property
    def transactions(self) -> int:
        """The transactions sent (each is confirmed by the child, or the run stops with its failure)."""
        return self._sent

    def address(self, name: str) -> str:
        return self.contracts[name].address

    def people(self, n: int) -> list:
        from .evm import derived_account

        made = [derived_account(f"person/{self._made}/{i}") for i in range(n)]  # EmbeddedChain.accounts' labels
        self._made += 1
        self._pending.append((_FUND, [a.address for a in made], self._ether))
        return made

    def give_gas(self, account) -> None:
        self._pending.append((_FUND, [account.address], self._ether))

    def send(self, account, name: str, method: str, *args, what: str) -> None:
        from .drivers import DriverError
        from .evm import EVMError, _addresses

        try:
            data = self.contracts[name].function(method).encode(_addresses(args))
        except EVMError as exc:
            raise DriverError(f"{what}: {exc}") from exc
        self._pending.append((_TX, account.address, name, method, data, what))
        self._sent += 1
        if len(self._pending) >= BATCH:
            self.flush()

    def call(self, name: str, method: str, *args) -> Any:
        """A view's value, after every transaction sent before it (a sync: this waits for the child)."""
        return self.call_later(name, method, *args)()

    def call_later(self, name: str, method: str, *args) -> Callable[[], Any]:
        """A view run after every transaction sent before it, without waiting for it: its value when the
        returned function is called (which waits then, if the child has not answered yet)."""
        from .evm import EVMError, _addresses

        fn = self.contracts[name].function(method)
        data = fn.encode(_addresses(args))
        self.flush()
        self._asked += 1
        ask = self._asked
        self._post(("call", ask, name, method, data))

        def value() -> Any:
            while ask not in self._answers:
                self._confirm(self._receive(f"the call {name}.{method}"))
            msg = self._answers.pop(ask)
            if msg[0] == "error":
                raise EVMError(msg[2])
            return fn.decode(msg[2])
        return value

    def encode(self, name: str, method: str, *args) -> bytes:
        return self.contracts[name].function(method).encode(args)

    def start_day(self, timestamp: int) -> None:
        from .evm import EVMError

        if timestamp < self._time:
            raise EVMError(f"mine_until: {timestamp} is before the current block's timestamp {self._time}")
        self.flush()  # the day before goes to the child now
        self._pending.append((_MINE, timestamp))
        self._time = timestamp

    advance_to = start_day

    def next_timestamp(self) -> int:
        return self._time

    def now(self) -> int:
        return self._time


__all__ = ["AHEAD", "BATCH", "PipelinedDriver"]
