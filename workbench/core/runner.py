"""Drive a :class:`~workbench.core.Search` on a background thread.

The runner owns one worker thread that calls ``search.step()`` until the
search is done, paused or stopped. Two locks keep steering safe:

- ``_step_lock`` is held by the worker for the whole of a step, and by a
  steering call that is applied at once;
- ``_condition`` guards the runner's state and the queue of steering calls
  that arrived while a step was running.

A steering call first tries to take ``_step_lock`` without waiting. If it gets
it and nothing is queued, the call is applied at once (the search is between
steps). Otherwise it is queued, and the worker applies the queue, in order, at
the next step boundary. No steering call ever runs concurrently with a step.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import enum
import logging
import reprlib
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from workbench.core.search import Search
from workbench.core.validation import check_float

logger = logging.getLogger(__name__)

DEFAULT_UPDATES_PER_SECOND = 4.0


class RunnerState(str, enum.Enum):
    """Lifecycle state of a :class:`Runner`."""

    IDLE = "idle"          # built, never started
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"    # stopped by the user; start() or resume() continues
    FINISHED = "finished"  # the search is done
    FAILED = "failed"      # a step raised; fix the cause, then resume()


@dataclasses.dataclass(frozen=True)
class RunnerUpdate:
    """Update sent to the runner's subscribers.

    Attributes
    ----------
    reason : str
        ``"step"``, ``"paused"``, ``"stopped"``, ``"finished"``, ``"error"``,
        ``"steering"`` or ``"steering_error"``.
    state : RunnerState
        Runner state when the update was sent.
    n_steps : int
        Steps the search has completed.
    snapshot : Any
        ``search.snapshot()`` taken on the worker thread between steps.
    event : dict or None
        Event record of the latest step.
    error : BaseException or None
        The exception of a failed step or steering call.
    traceback : str or None
        Formatted traceback of ``error``.
    """

    reason: str
    state: RunnerState
    n_steps: int
    snapshot: Any
    event: dict[str, Any] | None = None
    error: BaseException | None = None
    traceback: str | None = None


@dataclasses.dataclass
class _QueuedCall:
    action: str
    arguments: dict[str, Any]
    future: concurrent.futures.Future


class Runner:
    """Run a search on a background thread with pause, resume, step and stop.

    Parameters
    ----------
    search : Search
        The search to drive. A search can be attached to one runner at a time.
    updates_per_second : float, default 4.0
        Maximum rate of ``"step"`` updates to subscribers. Updates for pause,
        stop, finish, errors and steering are always sent.

    Attributes
    ----------
    error : BaseException or None
        Exception of the last failed step, kept until the runner resumes.
    error_traceback : str or None
        Its formatted traceback.
    last_event : dict or None
        Event record of the latest step.

    Example
    -------
    >>> runner = Runner(search)                        # doctest: +SKIP
    >>> runner.subscribe(lambda update: print(update.n_steps))  # doctest: +SKIP
    >>> runner.start(); runner.wait()                  # doctest: +SKIP
    """

    def __init__(self, search: Search, *, updates_per_second: float = DEFAULT_UPDATES_PER_SECOND):
        if not isinstance(search, Search):
            raise TypeError(f"search must be a workbench.core.Search, got {type(search).__name__}; "
                            f"wrap the algorithm in a Search subclass.")
        if search._runner is not None:
            raise ValueError("search is already attached to another Runner; call close() on that "
                             "runner first.")
        self.updates_per_second = check_float("updates_per_second", updates_per_second,
                                              minimum=0.0, exclusive_minimum=True)
        self.search = search
        search._runner = self

        self.error: BaseException | None = None
        self.error_traceback: str | None = None
        self.last_event: dict[str, Any] | None = None

        self._state = RunnerState.IDLE
        self._condition = threading.Condition()
        self._step_lock = threading.RLock()
        self._queue: list[_QueuedCall] = []
        self._steps_requested = 0      # > 0: step-once requests while paused
        self._stop_requested = False
        self._pause_requested = False
        self._in_step = False          # True while the worker acts on a step, queue, pause or exit
        self._thread: threading.Thread | None = None
        self._worker_exiting = False   # the worker has decided to end; start() needs a new one
        self._subscribers: list[Callable[[RunnerUpdate], None]] = []
        self._last_update_time = 0.0

    # ----- public control -------------------------------------------------

    @property
    def state(self) -> RunnerState:
        return self._state

    @property
    def is_alive(self) -> bool:
        """Whether the worker thread is running or waiting in a pause."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Runner:
        """Start (or continue) stepping the search on the worker thread."""
        with self._condition:
            self._pause_requested = False
            self._stop_requested = False
            self._clear_error()
            self._ensure_worker(RunnerState.RUNNING)
            self._condition.notify_all()
        return self

    def resume(self) -> Runner:
        """Continue after a pause, a stop or a failed step."""
        return self.start()

    def pause(self) -> Runner:
        """Pause after the current step; the worker waits for resume or step_once."""
        with self._condition:
            if self._state == RunnerState.RUNNING:
                self._pause_requested = True
                self._condition.notify_all()
        return self

    def step_once(self) -> Runner:
        """Take exactly one step, then pause. Starts a paused worker if needed."""
        with self._condition:
            if self.search.done:
                logger.info("step_once ignored: %s is done; %s", type(self.search).__name__,
                            self.search.continue_hint())
                return self
            if self._state == RunnerState.RUNNING:
                self._pause_requested = True
                self._condition.notify_all()
                return self
            self._clear_error()
            self._stop_requested = False
            self._steps_requested += 1
            self._ensure_worker(RunnerState.PAUSED)
            self._condition.notify_all()
        return self

    def stop(self) -> Runner:
        """Stop after the current step and end the worker thread."""
        with self._condition:
            self._stop_requested = True
            self._condition.notify_all()
        return self

    def wait(self, timeout: float | None = None) -> RunnerState:
        """Block until the worker has finished, failed, stopped or paused.

        Returns the state. Raises ``TimeoutError`` if ``timeout`` seconds pass
        first.
        """
        if timeout is not None:
            timeout = check_float("timeout", timeout, minimum=0.0)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while self._is_busy():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"runner still {self._state.value} after {timeout} s; "
                                       f"call wait() again or pause()/stop() it.")
                self._condition.wait(remaining)
        return self._state

    def run(self) -> RunnerState:
        """Start and wait until the search stops; re-raise a failed step's error."""
        self.start()
        state = self.wait()
        if state == RunnerState.FAILED and self.error is not None:
            raise self.error
        return state

    def close(self) -> None:
        """Stop the worker and detach the runner from its search."""
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self.search._runner = None

    def subscribe(self, callback: Callable[[RunnerUpdate], None]) -> Callable[[], None]:
        """Call ``callback(update)`` on every update; returns a function that unsubscribes.

        Callbacks run on the worker thread (or on the caller's thread for
        steering applied at once) and must not block for long. An exception in
        a callback is logged and does not stop the runner.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}.")
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    # ----- steering -------------------------------------------------------

    def submit_steering(self, action: str, arguments: dict[str, Any]) -> concurrent.futures.Future:
        """Apply a steering call now if between steps, else queue it for the next boundary.

        A call applied at once raises its error to the caller only; a queued
        call sets it on the returned future and sends it to subscribers.
        """
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._condition:
            apply_now = not self._queue and self._step_lock.acquire(blocking=False)
            if not apply_now:
                self._queue.append(_QueuedCall(action, arguments, future))
                self._condition.notify_all()
                return future
        try:
            self._apply(_QueuedCall(action, arguments, future), reraise=True)
            # Calls queued while this one held the lock come after it, and with no
            # worker alive no other thread would apply them.
            self._drain_queue()
        finally:
            self._step_lock.release()
        return future

    @property
    def pending_steering(self) -> int:
        """Number of steering calls waiting for the next step boundary."""
        with self._condition:
            return len(self._queue)

    # ----- worker ---------------------------------------------------------

    def _is_busy(self) -> bool:
        if self._queue or self._in_step:
            return True
        if self._state == RunnerState.RUNNING:
            return True
        return self._state == RunnerState.PAUSED and self._steps_requested > 0

    def _clear_error(self) -> None:
        self.error = None
        self.error_traceback = None

    def _ensure_worker(self, state: RunnerState) -> None:
        """Set ``state`` and start a worker thread if none is alive. Holds ``_condition``."""
        self._state = state
        if not self.is_alive or self._worker_exiting:
            self._worker_exiting = False
            self._thread = threading.Thread(target=self._work, name=f"Runner-{id(self):x}",
                                            daemon=True)
            self._thread.start()

    def _apply(self, call: _QueuedCall, *, reraise: bool = False) -> None:
        """Apply one steering call. The caller must own ``_step_lock``.

        A failure is set on the call's future and sent to subscribers; with
        ``reraise`` it is also raised to the caller.
        """
        try:
            result = self.search.apply_steering(call.action, call.arguments)
        except Exception as error:
            logger.warning("steering call %s(%s) failed: %r", call.action,
                           reprlib.repr(call.arguments), error)
            call.future.set_exception(error)
            if reraise:
                raise   # the caller sees it; subscribers would show it a second time
            self._notify("steering_error", error=error, force=True)
            return
        call.future.set_result(result)
        self._notify("steering", force=True)

    def _drain_queue(self) -> None:
        """Apply queued steering calls in order. The caller must own ``_step_lock``."""
        while True:
            with self._condition:
                if not self._queue:
                    return
                call = self._queue.pop(0)
            self._apply(call)
            with self._condition:
                self._condition.notify_all()

    def _next_action(self) -> str:
        """Wait for work and return ``"step"``, ``"steer"``, or ``"exit"``. Holds ``_condition``."""
        while True:
            if self._queue:
                return "steer"
            if self._stop_requested:
                self._state = RunnerState.STOPPED
                return "exit"
            if self.search.done:
                self._state = RunnerState.FINISHED
                return "exit"
            if self._steps_requested > 0:
                self._steps_requested -= 1
                return "step"
            if self._pause_requested:
                self._pause_requested = False
                self._state = RunnerState.PAUSED
                return "paused"
            if self._state == RunnerState.RUNNING:
                return "step"
            self._condition.notify_all()
            self._condition.wait()

    def _work(self) -> None:
        while True:
            with self._condition:
                action = self._next_action()
                self._worker_exiting = action == "exit"
                # Busy until this action's update has reached subscribers, so
                # wait() returns only after the final redraw.
                self._in_step = True
                self._condition.notify_all()
            if action == "exit":
                self._notify(self._state.value, force=True)
                self._finish_step()
                return
            if action == "paused":
                self._notify("paused", force=True)
                self._finish_step()
                continue
            with self._step_lock:
                self._drain_queue()
                if action == "steer" or self._stop_requested or self.search.done:
                    self._finish_step()
                    continue
                try:
                    self.last_event = self.search.step()
                except Exception as error:  # kept for the user; the search state stays usable
                    with self._condition:
                        self.error = error
                        self.error_traceback = traceback.format_exc()
                        self._state = RunnerState.FAILED
                        self._steps_requested = 0
                        self._worker_exiting = True
                    logger.error("step %d of %s failed: %r", self.search.n_steps,
                                 type(self.search).__name__, error)
                    self._notify("error", error=error, force=True)
                    self._finish_step()
                    return
            self._notify("step", force=self._state != RunnerState.RUNNING)
            self._finish_step()

    def _finish_step(self) -> None:
        with self._condition:
            # An exiting worker may already have been replaced by a new one,
            # whose flag it must not clear.
            if threading.current_thread() is self._thread:
                self._in_step = False
            self._condition.notify_all()

    def _notify(self, reason: str, *, error: BaseException | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_update_time < 1.0 / self.updates_per_second:
            return
        if not self._subscribers:
            return
        self._last_update_time = now
        with self._step_lock:  # never snapshot while a steering call mutates the search
            snapshot = self.search.snapshot()
            n_steps = self.search.n_steps
        update = RunnerUpdate(
            reason=reason, state=self._state, n_steps=n_steps,
            snapshot=snapshot, event=self.last_event, error=error,
            traceback=("".join(traceback.format_exception(error)) if error is not None else None),
        )
        for callback in list(self._subscribers):
            try:
                callback(update)
            except Exception:  # a broken subscriber must not stop the search
                logger.exception("runner subscriber %r failed", callback)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({type(self.search).__name__}, state={self._state.value}, "
                f"n_steps={self.search.n_steps})")
