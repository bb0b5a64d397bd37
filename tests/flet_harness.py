"""Screens without a browser: a real Flet `Session` over a fake `Connection`.

`flet.testing` needs a Flutter SDK, which this machine does not have. Instead (see
architecture.md) the fake connection msgpack-encodes every outgoing message exactly as the
web transport does (Flet 1.0 computes its diffs while encoding), answers the client-side
method calls the app makes (push_route), and the harness plays the browser's part: it applies
property patches (`session.apply_patch`) and dispatches events (`session.dispatch_event`) on a
real event loop running in a thread, as flet-web does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flet as ft
import msgpack  # type: ignore[import-untyped]
from flet.controls.base_control import BaseControl
from flet.messaging.connection import Connection
from flet.messaging.protocol import Message, MessageAction, RegisterClientResponseBody, configure_encode_object_for_msgpack
from flet.messaging.session import Session
from flet.pubsub.pubsub_hub import PubSubHub

ENCODE = configure_encode_object_for_msgpack(BaseControl)


class FakeConnection(Connection):
    def __init__(self, loop: asyncio.AbstractEventLoop, executor: ThreadPoolExecutor) -> None:
        super().__init__()
        self.loop = loop
        self.executor = executor
        self.pubsubhub = PubSubHub(loop=loop, executor=executor)
        self.page_url = "http://127.0.0.1:8550"
        self.session: Session | None = None
        self.sent = 0
        self.routes_in_flight = 0  # push_route calls whose route_change has not run yet

    def send_message(self, message: Message) -> None:
        msgpack.packb([message.action, message.body], default=ENCODE)  # computes the diff, as the web transport does
        self.sent += 1
        if message.action == MessageAction.INVOKE_METHOD and self.session is not None:
            body = message.body
            self.loop.call_soon_threadsafe(self.session.handle_invoke_method_results, body.control_id, body.call_id, None, None)
            if body.name == "push_route":  # the browser answers with route_change, as flet-web does
                self.routes_in_flight += 1
                self.loop.call_soon_threadsafe(self._route_changed, body.control_id, body.args["route"])

    def _route_changed(self, page_id: int, route: str) -> None:
        assert self.session is not None
        self.session.apply_patch(page_id, {"route": route})

        async def dispatch() -> None:
            assert self.session is not None
            try:
                await self.session.dispatch_event(page_id, "route_change", {"route": route})
            finally:
                self.routes_in_flight -= 1

        self.loop.create_task(dispatch())


def walk(control: Any) -> Iterator[Any]:
    """Every control below `control` (depth first), following dataclass fields."""
    if isinstance(control, (list, tuple)):
        for item in control:
            yield from walk(item)
        return
    if not isinstance(control, BaseControl):
        return
    yield control
    for f in dataclasses.fields(control):
        if f.name.startswith("_") or f.name in ("parent", "page", "data"):
            continue
        value = getattr(control, f.name, None)
        if isinstance(value, (BaseControl, list, tuple)):
            yield from walk(value)


class ScreenHarness:
    """One browser tab, without the browser. Methods mirror what a person does."""

    def __init__(self, main: Callable[[ft.Page], Any], *, width: int = 390, height: int = 844) -> None:
        self.loop = asyncio.new_event_loop()
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="harness")
        self.thread = threading.Thread(target=self.loop.run_forever, name="harness-loop", daemon=True)
        self.thread.start()
        self.conn = FakeConnection(self.loop, self.executor)
        self.session: Session = self._call(self._open(main, width, height))

    async def _open(self, main: Callable[[ft.Page], Any], width: int, height: int) -> Session:
        session = Session(self.conn)
        self.conn.session = session
        session.apply_page_patch({"route": "/", "width": width, "height": height, "web": True, "platform": "android"})
        self.conn.send_message(Message(MessageAction.REGISTER_CLIENT, RegisterClientResponseBody(session_id=session.id, page_patch=session.get_page_patch(), error="")))
        main(session.page)
        await session.after_event(session.page)
        return session

    def _call(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_tasks() -> None:  # the idle watcher and friends
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        self._call(cancel_tasks())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.executor.shutdown(wait=False, cancel_futures=True)

    # --- what is on screen ---------------------------------------------------------

    @property
    def page(self) -> ft.Page:
        return self.session.page

    @property
    def view(self) -> ft.View:
        return self.page.views[-1]

    @property
    def route(self) -> str:
        return str(self.view.route)

    def controls(self) -> list[Any]:
        """The current view and whatever is open over it (bottom sheets, dialogs)."""
        return [*walk(self.view), *walk([d for d in self.page._dialogs.controls if d.open])]

    def texts(self) -> list[str]:
        """Visible text, as a screen reader would meet it (hidden branches skipped)."""
        found: list[str] = []

        def visit(control: Any) -> None:
            if isinstance(control, (list, tuple)):
                for item in control:
                    visit(item)
                return
            if not isinstance(control, BaseControl) or getattr(control, "visible", True) is False:
                return
            if isinstance(control, ft.Text) and isinstance(control.value, str):
                found.append(control.value)
            for f in dataclasses.fields(control):
                if not f.name.startswith("_") and f.name not in ("parent", "page", "data"):
                    visit(getattr(control, f.name, None))

        visit(self.view)
        return found

    def text(self) -> str:
        return "\n".join(self.texts())

    def toasts(self) -> list[str]:
        return [t.value for d in self.page._dialogs.controls if isinstance(d, ft.SnackBar) for t in walk(d.content) if isinstance(t, ft.Text)]

    def find(self, identifier: str) -> ft.Semantics:
        for control in self.controls():
            if isinstance(control, ft.Semantics) and control.identifier == identifier:
                return control
        raise LookupError(f"no control {identifier!r} on {self.route}; ids: {self.identifiers()}")

    def identifiers(self) -> list[str]:
        return [c.identifier for c in self.controls() if isinstance(c, ft.Semantics) and c.identifier]

    def value(self, identifier: str) -> str:
        """The text of a text control wrapped for its identifier (`ui.text(..., identifier=...)`, `ui.error`)."""
        text = self.find(identifier).content
        assert isinstance(text, ft.Text), f"{identifier} is not a text"
        return str(text.value)

    def has(self, identifier: str) -> bool:
        return identifier in self.identifiers()

    def field(self, label: str) -> ft.TextField:
        for control in self.controls():
            if isinstance(control, ft.TextField) and control.label == label:
                return control
        raise LookupError(f"no field {label!r} on {self.route}")

    def inner(self, identifier: str, kind: type) -> Any:
        return next(c for c in walk(self.find(identifier)) if isinstance(c, kind))

    # --- what a person does --------------------------------------------------------

    def _event(self, control: BaseControl, name: str, data: Any = None, patch: dict[str, Any] | None = None) -> None:
        async def run() -> None:
            if patch:
                self.session.apply_patch(control._i, patch)
            await self.session.dispatch_event(control._i, name, data)
            for _ in range(200):  # a navigation's echo from the "browser" lands before the next action, as a person is slower
                await asyncio.sleep(0.005 if self.conn.routes_in_flight else 0)
                if not self.conn.routes_in_flight:
                    break

        self._call(run())

    def tap(self, identifier: str) -> None:
        semantics = self.find(identifier)
        target = next(c for c in walk(semantics.content) if getattr(c, "on_click", None) is not None)
        assert not getattr(target, "disabled", False), f"{identifier} is disabled"
        self._event(target, "click")

    def type(self, label: str, value: str) -> None:
        field = self.field(label)
        self._event(field, "change", value, {"value": value})

    def submit(self, label: str) -> None:
        self._event(self.field(label), "submit", self.field(label).value)

    def select(self, identifier: str, key: str) -> None:
        """A picker: open its sheet, tap the option."""
        self.tap(identifier)
        self.tap(f"{identifier}-{key}")

    def choose(self, identifier: str, key: str) -> None:
        """A radio button: `identifier` is the group's, `key` the option's."""
        self.find(f"{identifier}-{key}")  # it must be on screen
        group = next(c for c in self.controls() if isinstance(c, ft.RadioGroup) and any(isinstance(s, ft.Semantics) and s.identifier == f"{identifier}-{key}" for s in walk(c.content)))
        self._event(group, "change", key, {"value": key})

    def toggle(self, identifier: str) -> None:
        chip = self.inner(identifier, ft.Chip)
        self._event(chip, "select", None, {"selected": not chip.selected})

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._call(self._check(condition)):
                return
            time.sleep(0.02)
        raise TimeoutError(f"waited {timeout}s for {what}; on {self.route}: {self.text()[:500]}")

    @staticmethod
    async def _check(condition: Callable[[], bool]) -> bool:
        return bool(condition())

    def go(self, route: str) -> None:
        """Typing an address (or the back button): the client patches the route and fires route_change."""
        self._event(self.page, "route_change", {"route": route}, {"route": route})
