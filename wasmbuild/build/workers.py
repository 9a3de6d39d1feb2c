"""Compiling function jobs in worker processes.

`compile_jobs(modules, jobs, settings, workers, done)` gives the `FunctionObject` of each (module
index, defined function index) job, in job order, so the image does not depend on the number of
workers; `done(job number, object)` is called as each object is ready (so it can be cached at once,
and a build that is stopped keeps what it compiled). With one worker (or one job) it compiles in
this process. Otherwise it forks `workers` processes,
each of which decodes the inputs it needs on first use (its own `DecodedModules`, held by the
worker's serving loop) and answers batches of jobs over a pipe. The cyclic garbage collector stays
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
from ..translate.function import TranslateOptions
from .plan import DecodedModules

_MAX_BATCH = 64


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
    ctx = multiprocessing.get_context("fork")
    pool = []
    try:
        for _ in range(min(workers, len(batches))):
            parent, child = ctx.Pipe()
            process = ctx.Process(target=_serve, args=(child, modules.inputs, modules.options, settings),
                                  daemon=True)
            process.start()
            child.close()
            pool.append((process, parent))
        next_batch = 0
        busy: dict = {}  # connection -> (process, batch index)
        for process, conn in pool:
            if next_batch < len(batches):
                conn.send((next_batch, batches[next_batch]))
                busy[conn] = (process, next_batch)
                next_batch += 1
        while busy:
            for conn in multiprocessing.connection.wait(list(busy)):
                process, index = busy.pop(conn)
                try:
                    answer, error = conn.recv()
                except (EOFError, OSError):
                    process.join(1)
                    mi, j = batches[index][0]
                    raise WorkerError(f"a compile worker (pid {process.pid}) died {_how(process)} while "
                                      f"compiling functions of module {modules.inputs[mi].name} "
                                      f"(from defined function {j}); the build is stopped "
                                      f"(out of memory? try fewer jobs with -j)") from None
                if error is not None:
                    raise error
                finished(index, answer)
                if next_batch < len(batches):
                    conn.send((next_batch, batches[next_batch]))
                    busy[conn] = (process, next_batch)
                    next_batch += 1
    finally:
        # Done: tell the workers to stop. Failed or interrupted: stop them now.
        done = all(r is not None for r in results)
        for process, conn in pool:
            if done:
                try:
                    conn.send(None)
                except OSError:
                    pass
            else:
                process.kill()
            conn.close()
        for process, _conn in pool:
            process.join(5 if done else None)
            if process.is_alive():
                process.kill()
                process.join()
    return [obj for batch in results for obj in batch]


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


def _serve(conn, inputs, options: TranslateOptions, settings: CompileSettings) -> None:
    """A worker's loop: compile each batch it is sent until told to stop (None) or the build ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the build; the build stops us
    modules = DecodedModules(inputs, options)
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
