"""Compiling function jobs in worker processes.

`compile_jobs(modules, jobs, settings, workers, done)` gives the `FunctionObject` of each (module
index, defined function index) job, in job order, so the image does not depend on the number of
workers; `done(job number, object)` is called as each object is ready (so it can be cached at once,
and a build that is stopped keeps what it compiled). With one worker (or one job) it compiles in
this process. Otherwise it forks `workers` processes, which inherit the build's `DecodedModules`
and answer batches of jobs over a pipe, the batches with the most code first; a worker that has
compiled `_RECYCLE_AFTER` functions is replaced by a fresh one. The cyclic garbage collector stays
paused during a build (`session.py`), so after each batch the garbage that compiling it made (the
translator's and llvmlite's IR objects hold reference cycles) is collected explicitly: it is all
in the youngest generation, so the collection costs only what the batch left. A worker that dies (killed by the
out-of-memory killer, say) fails the build with a message naming it, instead of hanging it; a
worker whose build is interrupted exits quietly.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
from typing import Callable

from ..compile import CompileSettings
from ..errors import WasmbuildError
from .objects import FunctionObject, compile_function
from .plan import DecodedModules

_MAX_BATCH = 64
# A worker compiles at most about this many functions, then a fresh one takes over: what each
# function leaves behind in a process (about 0.05 MB, in llvmlite and LLVM) no longer adds up to
# gigabytes on modules of tens of thousands of functions.
_RECYCLE_AFTER = 2000


class WorkerError(WasmbuildError):
    phase = "build"


def compile_jobs(modules: DecodedModules, jobs: list[tuple[int, int]], settings: CompileSettings,
                 workers: int, done: Callable[[int, FunctionObject], None]) -> list[FunctionObject]:
    chunk = max(1, min(_MAX_BATCH, len(jobs) // (max(workers, 1) * 8) or 1))
    batches = [jobs[i:i + chunk] for i in range(0, len(jobs), chunk)]
    results: list[list[FunctionObject] | None] = [None] * len(batches)

    def finished(index: int, answer: list[FunctionObject]) -> None:
        results[index] = answer
        for k, obj in enumerate(answer):
            done(index * chunk + k, obj)

    if workers <= 1 or len(jobs) < 2:
        for index, batch in enumerate(batches):
            finished(index, compile_batch(modules, batch, settings))
        return [obj for batch in results for obj in batch]

    # The biggest batches first, so that no worker is left with a giant function at the end while
    # the others idle; results still go where their jobs are.
    order = sorted(range(len(batches)), key=lambda i: -_batch_size(modules, batches[i]))
    ctx = multiprocessing.get_context("fork")

    def start() -> _Worker:
        parent, child = ctx.Pipe()
        # Forked: the worker inherits the decoded modules (nothing is pickled or decoded again).
        process = ctx.Process(target=_serve, args=(child, modules, settings), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    pool = [start() for _ in range(min(workers, len(batches)))]
    retired: list[_Worker] = []
    pending = iter(order)
    busy: dict = {}  # connection -> (worker, batch index)

    def give(worker: _Worker) -> None:
        index = next(pending, None)
        if index is not None:
            worker.conn.send((index, batches[index]))
            busy[worker.conn] = (worker, index)

    try:
        for worker in pool:
            give(worker)
        while busy:
            for conn in multiprocessing.connection.wait(list(busy)):
                worker, index = busy.pop(conn)
                try:
                    answer, error = conn.recv()
                except (EOFError, OSError):
                    worker.process.join(1)
                    mi, j = batches[index][0]
                    raise WorkerError(f"a compile worker (pid {worker.process.pid}) died {_how(worker.process)} "
                                      f"while compiling functions of module {modules.inputs[mi].name} "
                                      f"(from defined function {j}); the build is stopped "
                                      f"(out of memory? try fewer jobs with -j)") from None
                if error is not None:
                    raise error
                finished(index, answer)
                worker.compiled += len(answer)
                if worker.compiled >= _RECYCLE_AFTER:
                    # What each function leaves behind adds up: a fresh worker takes over.
                    _stop(worker)
                    retired.append(worker)
                    pool[pool.index(worker)] = worker = start()
                give(worker)
    finally:
        # Done: tell the workers to stop. Failed or interrupted: stop them now.
        complete = all(r is not None for r in results)
        for worker in pool:
            if complete:
                _stop(worker)
            else:
                worker.process.kill()
                worker.conn.close()
        for worker in pool + retired:
            worker.process.join(5 if complete else None)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
    return [obj for batch in results for obj in batch]


class _Worker:
    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.compiled = 0  # functions it has compiled


def _stop(worker: _Worker) -> None:
    try:
        worker.conn.send(None)
    except OSError:
        pass
    worker.conn.close()


def _batch_size(modules: DecodedModules, batch: list[tuple[int, int]]) -> int:
    """The code bytes of a batch's functions."""
    total = 0
    for mi, j in batch:
        body = modules.get(mi).module.bodies[j]
        total += body.end - body.offset
    return total


def compile_batch(modules: DecodedModules, batch: list[tuple[int, int]], settings: CompileSettings):
    """Compile a batch of jobs, then collect the garbage that compiling them made."""
    objects = [compile_function(modules, mi, j, settings) for mi, j in batch]
    gc.collect(0)
    return objects


def _how(process) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"of signal {signal.Signals(-code).name}"
        except ValueError:
            return f"of signal {-code}"
    return f"with exit status {code}" if code is not None else "unexpectedly"


def _serve(conn, modules: DecodedModules, settings: CompileSettings) -> None:
    """A worker's loop: compile each batch it is sent until told to stop (None) or the build ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the build; the build stops us
    try:
        while True:
            message = conn.recv()
            if message is None:
                return
            index, batch = message
            try:
                answer = (compile_batch(modules, batch, settings), None)
            except WasmbuildError as e:
                answer = (None, e)
            conn.send(answer)
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        os._exit(0)  # the build went away: nothing to report, nobody to report it to
