"""One way to drive a deployed suite from a bulk loop, on either kind of chain.

Chain mode (hanzo.sim.onchain) sends a few transactions per agent a day and reads balances back;
what it needs from a chain is small, and this module gives it twice:

- `ApeDriver`: any Ape network (the in-process chain, anvil, a test chain). The suite is deployed
  through Ape (hanzo.chain.deploy), bulk transactions are signed locally and sent raw through web3
  with their receipts checked (hanzo.chain.tx), and the clock is Ape's `pending_timestamp`.
- `EmbeddedDriver`: the embedded EVM (hanzo.chain.evm, pyrevm), the suite deployed by the same
  plan; a transaction is a call into revm, and a day is one block.
- `PipelinedDriver` (hanzo.chain.pipeline, `driver(..., processes=2)`): the embedded EVM in a second
  process, fed the transactions as they are sent, so that the caller's books run ahead of it.

Both expose the contracts by the short names of deploy.Deployment (token, rewards, models, staked,
hmm, emission, pool, usd, treasury, timelock, vesting, governor), the roles as accounts with keys, and
the same operations: `send`, `call`, `call_later` (a view's value read when it is wanted, the view run after
the transactions sent before it), `sync` (every transaction sent confirmed), `encode` (a call's calldata, for a
proposal's action), `give_gas`,
`start_day` (every later transaction at or after a timestamp), `advance_to` (a block at a timestamp,
which views see too) and `now` (the timestamp of the last transaction's block). Errors come out as
DriverError naming the step.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from hanzo.econ.params import Tokenomics

EMBEDDED = "embedded"
CONTRACTS = ("token", "rewards", "models", "staked", "hmm", "emission", "pool", "usd", "treasury", "timelock",
             "vesting", "governor")


class DriverError(RuntimeError):
    """A transaction failed or the chain stopped answering; the message says which step."""


class RawSender:
    """Every account's transactions through one node (hanzo.chain.tx), each receipt checked."""

    def __init__(self, web3, error: type[Exception] = None):
        from .tx import Node

        self.node = Node(web3, retries=2, backoff_s=0.2, error=error or DriverError)
        self.senders: dict[str, Any] = {}

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.senders.values())

    def contract(self, ape_contract):
        from .tx import web3_contract

        return web3_contract(self.node.w3, ape_contract)

    def timestamp(self, receipt) -> int:
        return self.node.block_time(receipt["blockNumber"])

    def send(self, account, call, what: str, gas: int = 8_000_000):
        from eth_account import Account

        from .tx import Sender

        address = str(account.address)
        if address not in self.senders:
            self.senders[address] = Sender(self.node, Account.from_key(account.private_key))
        return self.senders[address].transact(call, what, gas=gas)


class ApeDriver:
    """An Ape network: deploy through Ape, bulk transactions raw through web3 (hanzo.chain.tx)."""

    def __init__(self, provider, params: Tokenomics, log=lambda _m: None):
        from ape import accounts, chain

        from .deploy import Roles, deploy_suite, project

        self._chain = chain
        acc = accounts.test_accounts
        self._accounts = acc
        self.deployer, self.oracle, self.provider, self.developer, self.whale = acc[0], acc[1], acc[8], acc[3], acc[4]
        self.extra = acc[5]  # one more keyed account (chain mode's speculator)
        self.team = acc[2]  # TeamVesting's beneficiary
        log(f"deploying to {provider.network_choice}")
        suite = deploy_suite(params, Roles(self.deployer, self.oracle, acc[2].address, self.developer.address,
                                           self.whale.address), proj=project(), handover=False)
        self.ape = {name: getattr(suite, name) for name in CONTRACTS}
        self.sender = RawSender(provider.web3)
        self._w3 = {name: self.sender.contract(c) for name, c in self.ape.items()}
        self._last: Any = None  # the last transaction's receipt
        self.chain_id = chain.chain_id

    @property
    def transactions(self) -> int:
        return self.sender.sent

    def address(self, name: str) -> str:
        return str(self.ape[name].address)

    def people(self, n: int) -> list:
        return [self._accounts.generate_test_account() for _ in range(n)]

    def give_gas(self, account) -> None:
        self.deployer.transfer(account, 10**18)
        kept = self.sender.senders.get(str(self.deployer.address))
        if kept is not None:
            kept.resync()  # Ape sent that one: the deployer's raw sender re-reads its nonce

    def send(self, account, name: str, method: str, *args, what: str) -> None:
        functions = self._w3[name]
        # an overloaded name is given by its signature ("release(address)"), as the embedded EVM's drivers take it
        fn = functions.get_function_by_signature(method) if "(" in method else getattr(functions.functions, method)
        self._last = self.sender.send(account, fn(*args), what)

    def call(self, name: str, method: str, *args) -> Any:
        return getattr(self.ape[name], method)(*args)

    def encode(self, name: str, method: str, *args) -> bytes:
        return bytes(getattr(self.ape[name], method).encode_input(*args))

    def start_day(self, timestamp: int) -> None:
        self._chain.pending_timestamp = timestamp

    def advance_to(self, timestamp: int) -> None:
        """A block at `timestamp` now, so that views (a proposal's state) see that time too (`start_day`
        only sets the next transaction's block time)."""
        self._chain.pending_timestamp = timestamp
        self._chain.mine()

    def next_timestamp(self) -> int:
        """The earliest timestamp the next transaction's block can have."""
        return self._chain.blocks.head.timestamp + 1

    def sync(self) -> None:
        """Nothing to wait for: every transaction here is confirmed when `send` returns."""

    def call_later(self, name: str, method: str, *args) -> Any:
        """`call` as PipelinedDriver's (its value when the returned function is called): here, read now."""
        value = self.call(name, method, *args)
        return lambda: value

    def now(self) -> int:
        return self.sender.timestamp(self._last) if self._last is not None else self.next_timestamp()


class EmbeddedDriver:
    """The embedded EVM (pyrevm): the suite deployed by hanzo.chain.plan, a block a day."""

    def __init__(self, params: Tokenomics, log=lambda _m: None, *, artifacts: Any = None):
        from .deploy import Roles
        from .evm import EmbeddedChain, deploy_suite, derived_account

        self.chain = EmbeddedChain(keep_logs=False, artifacts=artifacts)
        named = {label: derived_account(label) for label in
                 ("deployer", "oracle", "provider", "model_developers", "sale_and_liquidity", "speculator",
                  "team_beneficiary")}
        self.deployer, self.oracle, self.provider = named["deployer"], named["oracle"], named["provider"]
        self.developer, self.whale, self.extra = (named["model_developers"], named["sale_and_liquidity"],
                                                  named["speculator"])
        self.team = named["team_beneficiary"]  # TeamVesting's beneficiary
        log("deploying to the embedded EVM")
        try:
            _, suite = deploy_suite(params, Roles(self.deployer, self.oracle, named["team_beneficiary"].address,
                                                  self.developer.address, self.whale.address),
                                    chain=self.chain, handover=False)
        except Exception as exc:  # noqa: BLE001 - the plan's step and its revert are in the message
            raise DriverError(f"deploying to the embedded EVM: {exc}") from exc
        self.chain.fund([self.provider, self.extra])
        self.contracts = {name: getattr(suite, name) for name in CONTRACTS}
        self.chain_id = self.chain.chain_id
        self._made = 0
        self._deployment = self.chain.transactions  # not counted: the other drivers count the bulk sends only

    @property
    def transactions(self) -> int:
        return self.chain.transactions - self._deployment

    def address(self, name: str) -> str:
        return self.contracts[name].address

    def people(self, n: int) -> list:
        made = self.chain.accounts(n, label=f"person/{self._made}")
        self._made += 1
        return made

    def give_gas(self, account) -> None:
        self.chain.fund([account])

    def send(self, account, name: str, method: str, *args, what: str) -> None:
        from .evm import EVMError, _addresses

        contract = self.contracts[name]
        try:
            fn = contract.function(method)
            self.chain.push(str(account.address), contract, fn, fn.encode(_addresses(args)))
        except EVMError as exc:
            raise DriverError(f"{what}: {exc}") from exc

    def call(self, name: str, method: str, *args) -> Any:
        return self.chain.call(self.contracts[name], method, *args)

    def encode(self, name: str, method: str, *args) -> bytes:
        return self.contracts[name].function(method).encode(args)

    def start_day(self, timestamp: int) -> None:
        self.chain.mine_until(timestamp)

    def advance_to(self, timestamp: int) -> None:
        self.chain.mine_until(timestamp)

    def next_timestamp(self) -> int:
        return self.chain.timestamp

    def sync(self) -> None:
        """Nothing to wait for: every transaction here is confirmed when `send` returns."""

    def call_later(self, name: str, method: str, *args) -> Any:
        """`call` as PipelinedDriver's (its value when the returned function is called): here, read now."""
        value = self.call(name, method, *args)
        return lambda: value

    def now(self) -> int:
        return self.chain.timestamp


@contextmanager
def driver(network: str, params: Tokenomics, log=lambda _m: None, *, processes: int = 1
           ) -> Iterator[ApeDriver | EmbeddedDriver]:
    """The driver for `network`: "embedded" for the embedded EVM, else an Ape network choice. `processes`: 2
    runs the embedded EVM in a second process (hanzo.chain.pipeline), fed the transactions as they are sent."""
    if processes not in (1, 2):
        raise DriverError(f"processes: expected 1 or 2, got {processes}")
    if network == EMBEDDED and processes == 2:
        from .pipeline import PipelinedDriver

        piped = PipelinedDriver(params, log)
        try:
            yield piped
        except BaseException:
            piped.abandon()
            raise
        piped.close()
        return
    if processes == 2:
        raise DriverError(f"processes=2: only the embedded EVM ({EMBEDDED!r}) runs in a second process")
    if network == EMBEDDED:
        yield EmbeddedDriver(params, log)
        return
    import ape

    try:
        context = ape.networks.parse_network_choice(network)
        provider = context.__enter__()
    except Exception as exc:  # noqa: BLE001 - Ape names the unknown ecosystem or network in its own types
        raise DriverError(f"network {network!r}: {' '.join(str(exc).split())[:300]} (or {EMBEDDED!r} for the "
                          "embedded EVM)") from exc
    try:
        yield ApeDriver(provider, params, log)
    finally:
        context.__exit__(None, None, None)


__all__ = ["CONTRACTS", "EMBEDDED", "ApeDriver", "DriverError", "EmbeddedDriver", "RawSender", "driver"]
