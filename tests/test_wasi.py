"""WASI preview 1: real C programs built with zig (committed .wasm), the command line, and the
sandbox.

The sandbox tests use small hand-written WAT programs that call `path_open` directly with paths
that try to leave the preopened directory (`..`, absolute paths, a symlink to outside), and check
the errno WASI returns (76 = ENOTCAPABLE) and that nothing outside was touched; `Guest` calls the
host functions as a program would (raw arguments, a real linear memory) to try every `path_*` and
`fd_*` function against links to outside, and to feed them hostile sizes. The C programs in
`tests/wasi/` (source beside each .wasm) are run by wasmtime too when it is installed, as a
reference for what they should print.
"""

import io
import os
import random
import struct
import subprocess
import sys
import threading
import time
import tracemalloc

import pytest

from wasmbuild.api import run_wasi
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.wat import read_module_bytes

from conftest import need_module, wat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
O1 = CompileSettings(opt_level=1)


def image_of(tmp_path, data: bytes, name="prog") -> str:
    image, _ = build_image([ModuleInput(name, data, name)], O1)
    path = tmp_path / f"{name}.img"
    path.write_bytes(image)
    return str(path)


@pytest.fixture(scope="module")
def wordfreq(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wordfreq")
    return image_of(tmp, read_module_bytes(os.path.join(REPO, "samples/wordfreq/wordfreq.wasm")), "wordfreq")


def test_c_program_reads_and_writes_files(tmp_path, wordfreq):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("b a c b a b. A!\n")
    out = io.BytesIO()
    code = run_wasi(wordfreq, ["/data/in.txt", "/data/out.txt", "2"], dirs={"/data": str(data)}, stdout=out)
    assert code == 0
    assert (data / "out.txt").read_text() == "     3 a\n     3 b\n"
    assert out.getvalue() == b"16 bytes, 7 words, 3 distinct; top 2 written to /data/out.txt\n"


def test_missing_input_exits_nonzero_with_message(tmp_path, wordfreq):
    err = io.BytesIO()
    code = run_wasi(wordfreq, ["/data/nope.txt", "/data/out.txt"], dirs={"/data": str(tmp_path)}, stderr=err)
    assert code == 1
    assert b"nope.txt" in err.getvalue()


def test_command_line_runs_a_wasi_program_with_args_env_and_exit_code(tmp_path):
    data = wat("""
    (module
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $esizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (drop (call $sizes (i32.const 0) (i32.const 4)))
        (drop (call $args (i32.const 100) (i32.const 200)))
        ;; write argv[1] (a NUL-terminated string at *(104)) of length *(4) - len(argv[0]) ... simply
        ;; print the bytes from argv[1] to the end of the argument buffer
        (i32.store (i32.const 16) (i32.load (i32.const 104)))
        (i32.store (i32.const 20) (i32.sub (i32.add (i32.const 200) (i32.load (i32.const 4)))
                                           (i32.load (i32.const 104))))
        (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
        (drop (call $esizes (i32.const 8) (i32.const 12)))
        (call $exit (i32.add (i32.const 40) (i32.load (i32.const 8))))))
    """)
    img = image_of(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "run", img, "--env", "A=1", "--env", "B=2",
                           "--", "hello"], capture_output=True)
    assert proc.returncode == 42  # 40 + two environment variables
    assert proc.stdout == b"hello\0"


SANDBOX = """
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "%PATH%")
  ;; try to open (create) the path; return the errno
  (func (export "open") (result i32)
    (call $open (i32.const 3) (i32.const 1) (i32.const 256) (i32.const %LEN%) (i32.const 1)
                (i64.const 0x7fffffff) (i64.const 0x7fffffff) (i32.const 0) (i32.const 0)))
  (func (export "mkdir") (result i32)
    (call $mkdir (i32.const 3) (i32.const 256) (i32.const %LEN%))))
"""


def sandbox_call(tmp_path, path: str, func: str) -> int:
    import wasmbuild
    from wasmbuild.loader.runtime import Store
    from wasmbuild.wasi import NAMESPACE, Wasi
    text = SANDBOX.replace("%PATH%", path).replace("%LEN%", str(len(path.encode())))
    img = image_of(tmp_path, wat(text), "sandbox")
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    wasi = Wasi(["sandbox"], {}, {"/box": str(box)})
    store = Store()
    g = wasmbuild.load(img, {NAMESPACE: wasi.namespace(store)}, store)
    wasi.bind(g.exports["memory"])
    try:
        return g.exports[func]()
    finally:
        wasi.close()


ENOTCAPABLE = 76


@pytest.mark.parametrize("path", ["../escaped.txt", "a/../../escaped.txt", "/etc/escaped.txt",
                                  "link/escaped.txt"])
def test_paths_cannot_leave_the_preopened_directory(tmp_path, path):
    box = tmp_path / "box"
    box.mkdir()
    (box / "a").mkdir()
    os.symlink(str(tmp_path), str(box / "link"))  # a symlink pointing outside the sandbox
    assert sandbox_call(tmp_path, path, "open") == ENOTCAPABLE
    assert sandbox_call(tmp_path, path.replace("escaped.txt", "escdir"), "mkdir") == ENOTCAPABLE
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "escdir").exists()


def test_paths_inside_the_sandbox_work(tmp_path):
    (tmp_path / "box" / "a").mkdir(parents=True)  # `a/..` is walked as the host does: `a` must exist
    assert sandbox_call(tmp_path, "a/../inside.txt", "open") == 0
    assert (tmp_path / "box" / "inside.txt").exists()


def test_unknown_wasi_function_is_reported_at_link_time(tmp_path):
    data = wat("""(module (import "wasi_snapshot_preview1" "no_such_call" (func (param i32) (result i32)))
                   (memory (export "memory") 1) (func (export "_start")))""")
    img = image_of(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "run", img], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "unknown import wasi_snapshot_preview1.no_such_call" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- the host functions called directly ------------------------------------------------------------

from wasmbuild.loader.runtime import Memory, Store  # noqa: E402
from wasmbuild.wasi import SIGNATURES, Wasi  # noqa: E402

ELOOP, EFAULT, EFBIG, EINVAL, ENOENT, ENOTDIR, EBADF = 32, 21, 22, 28, 44, 54, 8
O_CREAT, O_DIRECTORY = 1, 2
READ, WRITE = 1 << 1, 1 << 6
PATH = 60000  # where Guest puts path strings


class Guest:
    """A program's side of the WASI host: raw calls into the host functions with a memory of
    `pages` pages; fd 3 is the preopen /box."""

    def __init__(self, box, pages=1, stdout=None, stdin=None):
        self.wasi = Wasi(["guest"], {}, {"/box": str(box)} if box else {}, stdin or io.BytesIO(b"input"),
                         stdout or io.BytesIO(), io.BytesIO())
        store = Store()
        self.memory = Memory(store, pages, None)
        self.wasi.bind(self.memory)
        self.functions = self.wasi.namespace(store)

    def __call__(self, name, *args) -> int:
        (errno,) = self.functions[name].call_bits(list(args))
        return errno

    def path(self, text: str, at: int = PATH) -> tuple[int, int]:
        data = text.encode()
        self.memory.write(at, data)
        return at, len(data)

    def u32(self, ptr):
        return struct.unpack("<I", self.memory.read(ptr, 4))[0]

    def open(self, path, follow=True, oflags=0, rights=READ, dirfd=3) -> tuple[int, int | None]:
        errno = self("path_open", dirfd, int(follow), *self.path(path), oflags, rights, rights, 0, 0)
        return errno, (self.u32(0) if errno == 0 else None)


@pytest.fixture
def box(tmp_path):
    """/box with a file, a directory `a` (holding `inside`), links that stay inside and links to a
    directory outside (`outside/secret`)."""
    box, outside = tmp_path / "box", tmp_path / "outside"
    (box / "a").mkdir(parents=True)
    outside.mkdir()
    (box / "file.txt").write_text("in the box")
    (box / "a" / "inside").write_text("inside")
    (outside / "secret").write_text("secret")
    os.symlink(str(outside), str(box / "link"))       # absolute, outside
    os.symlink("../outside", str(box / "rel"))         # relative, outside
    os.symlink("a/../../outside", str(box / "sneaky"))  # climbs out through a directory inside
    os.symlink("a", str(box / "inlink"))                # stays inside
    os.symlink("loop", str(box / "loop"))
    return box


OUTSIDE_LINKS = ["link", "rel", "sneaky", "a/../link", "inlink/../link"]


def _outside_dir(box):
    st = os.stat(box.parent / "outside")
    return st.st_dev, st.st_ino


@pytest.mark.parametrize("follow", [False, True])
@pytest.mark.parametrize("oflags", [0, O_DIRECTORY])
@pytest.mark.parametrize("path", OUTSIDE_LINKS + [p + suffix for p in ("link", "rel") for suffix in ("/", "/.")])
def test_no_descriptor_names_a_directory_outside_the_preopen(box, path, follow, oflags):
    # The attack of the issue: path_open without SYMLINK_FOLLOW on an entry that is a link to a
    # directory outside gave a directory fd, and fd_readdir/fd_filestat_get then showed the outside.
    guest = Guest(box)
    errno, fd = guest.open(path, follow=follow, oflags=oflags)
    if fd is not None:  # whatever it opened must not be the outside directory
        assert guest("fd_filestat_get", fd, 1024) == 0
        assert struct.unpack_from("<QQ", guest.memory.read(1024, 16)) != _outside_dir(box)
        assert guest("fd_readdir", fd, 2048, 4096, 0, 100) != 0 or b"secret" not in guest.memory.read(2048, 4096)
    assert errno in (ELOOP, ENOTDIR, ENOTCAPABLE), errno  # not following it, the link is no directory


@pytest.mark.parametrize("path", OUTSIDE_LINKS)
def test_no_path_function_reaches_through_a_link_to_outside(box, path):
    guest = Guest(box)
    outside = box.parent / "outside"
    ptr, n = guest.path(path + "/secret")
    assert guest("path_filestat_get", 3, 1, ptr, n, 1024) == ENOTCAPABLE
    assert guest("path_filestat_get", 3, 0, ptr, n, 1024) == ENOTCAPABLE
    assert guest("path_open", 3, 0, ptr, n, 0, READ | WRITE, 0, 0, 0) == ENOTCAPABLE
    assert guest("path_unlink_file", 3, ptr, n) == ENOTCAPABLE
    assert guest("path_rename", 3, ptr, n, 3, *guest.path("stolen", PATH + 1000)) == ENOTCAPABLE
    ptr, n = guest.path(path + "/made")
    assert guest("path_create_directory", 3, ptr, n) == ENOTCAPABLE
    assert guest("path_open", 3, 1, ptr, n, O_CREAT, READ | WRITE, 0, 0, 0) == ENOTCAPABLE
    ptr, n = guest.path(path + "/.")
    assert guest("path_remove_directory", 3, ptr, n) == ENOTCAPABLE
    assert sorted(os.listdir(outside)) == ["secret"] and (outside / "secret").read_text() == "secret"
    # Not following the link in last place describes the link itself, which is inside.
    ptr, n = guest.path(path)
    assert guest("path_filestat_get", 3, 0, ptr, n, 1024) == 0
    assert guest.memory.read(1024 + 16, 1) == b"\x07"  # FT_SYMLINK


def test_links_inside_the_preopen_work_and_loops_end(box):
    guest = Guest(box)
    errno, fd = guest.open("inlink/inside")
    assert errno == 0 and guest("fd_read", fd, *_iovec(guest, 4096, 100), 200) == 0
    assert guest.memory.read(4096, guest.u32(200)) == b"inside"
    assert guest.open("inlink", follow=True, oflags=O_DIRECTORY)[0] == 0
    assert guest.open("inlink", follow=False)[0] == ELOOP  # the program asked not to follow it
    assert guest.open("loop")[0] == ELOOP
    assert guest.open("missing/x")[0] == ENOENT
    assert guest.open("file.txt/x")[0] == ENOTDIR
    assert guest.open("a/..")[0] == 0 and guest.open("a/../..")[0] == ENOTCAPABLE


def _iovec(guest, buf, n, at=8192):
    guest.memory.write(at, struct.pack("<II", buf, n))
    return at, 1


def test_a_directory_descriptor_names_the_directory_not_its_path(box):
    # Open /box/a, rename it away and put the link to outside in its place: the descriptor must
    # still list and describe the directory it was opened on.
    guest = Guest(box)
    errno, fd = guest.open("a", oflags=O_DIRECTORY)
    assert errno == 0
    assert guest("path_rename", 3, *guest.path("a"), 3, *guest.path("a2", PATH + 1000)) == 0
    os.rename(box / "link", box / "a")
    assert guest("fd_readdir", fd, 2048, 4096, 0, 100) == 0
    listing = guest.memory.read(2048, guest.u32(100))
    assert b"inside" in listing and b"secret" not in listing
    assert guest("fd_filestat_get", fd, 1024) == 0
    assert struct.unpack_from("<QQ", guest.memory.read(1024, 16)) != _outside_dir(box)
    # and paths relative to it stay in it
    errno, inner = guest.open("inside", dirfd=fd)
    assert errno == 0
    assert guest.open("../link", dirfd=fd)[0] == ENOTCAPABLE


@pytest.fixture(scope="module")
def c_images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cprogs")
    return {name: image_of(tmp, read_module_bytes(os.path.join(REPO, "tests", "wasi", f"{name}.wasm")), name)
            for name in ("sandbox", "sleep")}


def _wasmtime_output(name: str, preopen=None) -> bytes | None:
    """What the C program prints under wasmtime (None if wasmtime is not installed)."""
    script = """if True:
        import sys, wasmtime
        engine = wasmtime.Engine(); store = wasmtime.Store(engine); cfg = wasmtime.WasiConfig()
        cfg.inherit_stdout()
        if len(sys.argv) > 2: cfg.preopen_dir(sys.argv[2], "/box")
        store.set_wasi(cfg); linker = wasmtime.Linker(engine); linker.define_wasi()
        module = wasmtime.Module.from_file(engine, sys.argv[1])
        linker.instantiate(store, module).exports(store)["_start"](store)
    """
    need_module("wasmtime")
    proc = subprocess.run([sys.executable, "-c", script, os.path.join(REPO, "tests", "wasi", f"{name}.wasm"),
                           *([str(preopen)] if preopen else [])], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


SANDBOX_SEES = b"nofollow link: refused\na after the swap: inside\n"


def test_a_c_program_cannot_list_outside_through_a_link(box, c_images):
    out = io.BytesIO()
    assert run_wasi(c_images["sandbox"], dirs={"/box": str(box)}, stdout=out) == 0
    assert out.getvalue() == SANDBOX_SEES


def test_wasmtime_agrees_on_what_the_sandbox_program_sees(tmp_path):
    box = tmp_path / "box"
    (box / "a").mkdir(parents=True)
    (box / "a" / "inside").write_text("")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("")
    os.symlink(str(tmp_path / "outside"), str(box / "link"))
    assert _wasmtime_output("sandbox", box) == SANDBOX_SEES


# --- poll_oneoff -----------------------------------------------------------------------------------

SLEEP_SAYS = b"usleep OK\nnanosleep OK\n"


def test_usleep_in_a_c_program_sleeps_as_long_as_asked(c_images):
    # poll_oneoff read the timeout at offset 20 instead of 24: usleep(1000) slept about 50 days.
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "run", c_images["sleep"]], capture_output=True,
                          timeout=60)
    assert (proc.returncode, proc.stdout) == (0, SLEEP_SAYS), proc.stderr


def test_wasmtime_agrees_on_what_the_sleep_program_says():
    assert _wasmtime_output("sleep") == SLEEP_SAYS


def within(seconds, fn):
    """fn() run on a thread; fails (leaving the thread behind) if it takes longer than `seconds`."""
    result = []
    thread = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s")
    return result[0]


def subscription(userdata, tag, ident=0, timeout=0, flags=0) -> bytes:
    """A preview 1 subscription (48 bytes, fields at their natural alignment)."""
    record = bytearray(48)
    struct.pack_into("<QB", record, 0, userdata, tag)
    struct.pack_into("<I", record, 16, ident)
    struct.pack_into("<QQH", record, 24, timeout, 0, flags)
    return bytes(record)


def events(guest, out, n):
    """(userdata, error, type) of the `n` events at `out` (32 bytes each)."""
    return [(struct.unpack_from("<Q", guest.memory.read(out + 32 * i, 8))[0],
             *struct.unpack_from("<HB", guest.memory.read(out + 32 * i + 8, 3))) for i in range(n)]


def test_poll_oneoff_waits_for_the_first_clock_and_reports_it():
    guest = Guest(None)
    guest.memory.write(0, subscription(11, 0, ident=1, timeout=3_000_000)       # 3 ms, monotonic
                       + subscription(22, 0, ident=1, timeout=60_000_000_000))  # a minute
    start = time.monotonic()
    assert within(10, lambda: guest("poll_oneoff", 0, 1024, 2, 2000)) == 0
    assert 0.003 <= time.monotonic() - start < 5
    assert guest.u32(2000) == 1 and events(guest, 1024, 1) == [(11, 0, 0)]
    # an absolute deadline already past (realtime clock) is ready at once
    guest.memory.write(0, subscription(33, 0, ident=0, timeout=time.time_ns() - 10**9, flags=1))
    assert within(10, lambda: guest("poll_oneoff", 0, 1024, 1, 2000)) == 0
    assert guest.u32(2000) == 1 and events(guest, 1024, 1) == [(33, 0, 0)]
    assert guest("poll_oneoff", 0, 1024, 0, 2000) == EINVAL  # nothing to wait for


@pytest.mark.parametrize("flags", [0, 1])
def test_poll_oneoff_with_the_longest_timeout_and_a_ready_descriptor_answers_at_once(flags):
    # A timeout of 2**64 - 1 raised OverflowError out of the host function.
    guest = Guest(None)
    guest.memory.write(0, subscription(1, 0, ident=1, timeout=2**64 - 1, flags=flags)
                       + subscription(2, 2, ident=1) + subscription(3, 1, ident=99))
    assert within(10, lambda: guest("poll_oneoff", 0, 1024, 3, 2000)) == 0
    assert guest.u32(2000) == 2 and events(guest, 1024, 2) == [(2, 0, 2), (3, EBADF, 1)]
    assert guest("poll_oneoff", 0, 65536 - 16, 3, 2000) == EFAULT  # events would not fit in memory


# --- sizes: errnos, bounded copies -----------------------------------------------------------------

def test_fd_filestat_set_size_beyond_the_largest_file_is_efbig(box):
    guest = Guest(box)
    errno, fd = guest.open("file.txt", rights=READ | WRITE)
    assert errno == 0
    assert guest("fd_filestat_set_size", fd, 2**64 - 1) == EFBIG  # raised OverflowError
    assert guest("fd_filestat_set_size", fd, 3) == 0 and (box / "file.txt").read_text() == "in "


def _peak(fn) -> int:
    """The most memory Python allocated while fn() ran, in bytes."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_random_get_checks_the_buffer_before_allocating():
    guest = Guest(None)  # one page: 64 KiB
    assert guest("random_get", 0, 0xFFFFFFFF) == EFAULT  # allocated 4 GiB first
    assert _peak(lambda: guest("random_get", 0, 1 << 20)) < 64 << 10
    big = Guest(None, pages=64)
    assert _peak(lambda: big("random_get", 0, 4 << 20)) < 3 << 20
    assert big.memory.read((4 << 20) - 4096, 4096) != bytes(4096)


class Sink:
    """A stdout that keeps only the size of each write."""

    def __init__(self):
        self.sizes = []

    def write(self, data):
        self.sizes.append(len(data))
        return len(data)


def test_fd_write_streams_repeated_iovecs_through_a_bounded_buffer():
    # 64 iovecs each naming the whole 1 MiB memory: 64 MiB written, never 64 MiB held at once.
    sink = Sink()
    guest = Guest(None, pages=16, stdout=sink)
    guest.memory.write(0, struct.pack("<II", 0, 1 << 20) * 64)
    peak = _peak(lambda: guest("fd_write", 1, 0, 64, 4096))
    assert guest.u32(4096) == 64 << 20 and sum(sink.sizes) == 64 << 20
    assert max(sink.sizes) <= 1 << 20 and peak < 4 << 20
    guest.memory.write(0, struct.pack("<II", 0, 1 << 20) + struct.pack("<II", 1 << 20, 1))
    assert guest("fd_write", 1, 0, 2, 4096) == EFAULT  # the second leaves memory: nothing written
    assert sum(sink.sizes) == 64 << 20


def test_fd_read_fills_iovecs_a_chunk_at_a_time(box):
    (box / "big").write_bytes(bytes(range(256)) * 8192)  # 2 MiB
    guest = Guest(box, pages=64)
    errno, fd = guest.open("big")
    guest.memory.write(0, struct.pack("<II", 1 << 20, 3 << 19) + struct.pack("<II", 3 << 20, 1 << 20))
    assert errno == 0 and guest("fd_read", fd, 0, 2, 64) == 0
    assert guest.u32(64) == 2 << 20
    assert guest.memory.read(1 << 20, 3 << 19) + guest.memory.read(3 << 20, 1 << 19) == (box / "big").read_bytes()


def test_fd_write_of_131072_iovecs_of_a_whole_1mib_memory_ends_quickly(tmp_path):
    # The case: it materialised every iovec (128 GiB asked; 4 GiB made in 32 s). Now at most
    # MAX_TRANSFER bytes move, through a 1 MiB buffer: run with 1 GiB of address space at most.
    import resource
    img = image_of(tmp_path, wat("""
    (module
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 16 16)
      (func (export "_start") (local $i i32) (local $e i32)
        (loop $fill  ;; 131072 iovecs fill the memory, each naming all of it
          (i64.store (i32.shl (local.get $i) (i32.const 3)) (i64.const 0x0010000000000000))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $fill (i32.lt_u (local.get $i) (i32.const 131072))))
        (local.set $e (call $write (i32.const 1) (i32.const 0) (i32.const 131072) (i32.const 0)))
        (if (local.get $e) (then (call $exit (local.get $e))))
        ;; exit 0 when it wrote MAX_TRANSFER bytes, else 99
        (call $exit (select (i32.const 0) (i32.const 99) (i32.eq (i32.load (i32.const 0)) (i32.const 0x7ffff000))))))
    """))
    from wasmbuild.contract.abi import GUARDED_RESERVATION
    limit = (1 << 30) + GUARDED_RESERVATION  # the memory's reservation is address space, not memory
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "run", img], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=120,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()[-2000:]
    assert time.monotonic() - start < 60


def _fuzz_args(rng, params):
    small = [0, 1, 2, 3, 4, 5, 8]
    i32 = small + [1024, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF8, 0xFFFFFFFF]
    i64 = small + [2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 1]
    return [rng.choice(i64 if t == 0x7E else i32) for t in params]


def test_every_host_function_answers_hostile_arguments_with_an_errno(box):
    # Extreme sizes, offsets, descriptors and flags, on memory full of noise: no Python exception
    # may leave a host function (poll_oneoff is tried above; proc_exit ends the program by design).
    # Each function starts afresh with fds 4 (a file, read and write) and 5 (a directory).
    rng = random.Random(20240601)
    noise = rng.randbytes(65536)
    for name, params in sorted(SIGNATURES.items()):
        if name in ("poll_oneoff", "proc_exit"):
            continue
        guest = Guest(box, stdout=Sink())
        assert guest.open("file.txt", rights=READ | WRITE) == (0, 4) and guest.open("a") == (0, 5)
        for _ in range(200):
            guest.memory.write(0, noise)
            errno = guest(name, *_fuzz_args(rng, params))
            assert isinstance(errno, int) and 0 <= errno <= 76, (name, errno)
        guest.wasi.close()
    assert sorted(os.listdir(box.parent / "outside")) == ["secret"]
