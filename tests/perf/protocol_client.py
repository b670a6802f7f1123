"""A simulated person that speaks Streamlit's own websocket protocol, without a browser.

A browser tab and the Streamlit server talk over one websocket (`/_stcore/stream`): the tab sends a `BackMsg`
("rerun the script for this page with these widget values"), the server runs the script and streams
`ForwardMsg`s back (page elements, navigation, then `script_finished`). This client sends the same messages a
tab sends for a click — widget states, the page's script hash, the hashes of the large messages it already holds
(so the server answers those with a reference, as it does for a real tab) — and times each click from sending to
the run's `script_finished`. That is what a person waits for from the server, queueing included; what a browser
then spends drawing the page is left out, which is the point: a 2-core test machine cannot run the browsers of
25 people on one core, and the capacity question is the server's.

Used by `serve_bench.py` (its default mode); `--browsers` there drives real Chromium instead.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = ForwardMsg.ScriptFinishedStatus


@dataclass
class Run:
    """One script run as the client saw it: its wall time (send to finish), the texts on the page and its widgets."""
    seconds: float
    texts: list[str] = field(default_factory=list)
    widgets: dict[str, tuple[str, object]] = field(default_factory=dict)     # label → (widget id, element)
    exceptions: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return next((t for t in self.texts if t.startswith("# ")), "")[2:]

    def line_with(self, needle: str) -> str:
        return next((t for t in self.texts if needle in t), "")


class Session:
    """One browser tab's conversation with the server: `await Session.open(url)`, then `rerun(...)`."""

    def __init__(self, ws, url: str):
        self.ws, self.url = ws, url
        self.pages: dict[str, str] = {}         # page title → its script hash (from the navigation message)
        self.paths: dict[str, str] = {}         # page title → its URL path
        self.cached: set[str] = set()           # hashes of the cacheable messages this tab holds

    @classmethod
    async def open(cls, url: str) -> "Session":
        ws = await websockets.connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=None, open_timeout=120)
        return cls(ws, url)

    async def close(self) -> None:
        await self.ws.close()

    async def rerun(self, page: str | None = None, widgets: list | None = None, timeout: float = 300) -> Run:
        """Ask for a run (of the page titled `page`, or the current one) with these widget states, and collect
        every message until the run — and any rerun it asks for (st.rerun) — has finished."""
        msg = BackMsg()
        state = msg.rerun_script
        if page is not None:
            state.page_script_hash = self.pages[page]
        state.widget_states.widgets.extend(widgets or [])
        state.cached_message_hashes.extend(sorted(self.cached))
        state.context_info.timezone = "Europe/London"
        state.context_info.url = f"{self.url}/{self.paths.get(page, '')}" if page else self.url
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run(0.0)
        while True:
            data = await _recv(self.ws, started + timeout)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            if fwd.metadata.cacheable and fwd.hash:
                self.cached.add(fwd.hash)
            kind = fwd.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in fwd.navigation.app_pages}
                self.paths = {p.page_name: p.url_pathname for p in fwd.navigation.app_pages}
            elif kind == "new_session":
                run = Run(0.0)                   # a rerun starts afresh: only the last run's page counts
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                _collect(fwd.delta.new_element, run)
            elif kind == "script_finished" and fwd.script_finished != FINISHED.FINISHED_EARLY_FOR_RERUN:
                run.seconds = time.perf_counter() - started
                return run


async def _recv(ws, deadline: float) -> bytes:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise TimeoutError("the server did not finish the run in time")
    return await asyncio.wait_for(ws.recv(), timeout=left)


_TEXT = {"heading": lambda e: ("#" * int(e.tag[1:] or 1) + " " if e.tag.startswith("h") and e.tag[1:].isdigit()
                               else "# ") + e.body,
         "markdown": lambda e: e.body, "alert": lambda e: e.body, "text": lambda e: e.body,
         "metric": lambda e: f"{e.label}: {e.body}"}
_WIDGETS = ("button", "radio", "selectbox", "text_input", "checkbox", "date_input", "multiselect", "download_button")


def _collect(element, run: Run) -> None:
    kind = element.WhichOneof("type")
    if kind in _TEXT:
        run.texts.append(_TEXT[kind](getattr(element, kind)))
    elif kind == "exception":
        run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
    if kind in _WIDGETS:
        w = getattr(element, kind)
        run.widgets[w.label] = (w.id, w)
