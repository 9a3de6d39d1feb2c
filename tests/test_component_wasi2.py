"""The WASI 0.2 host (`wasmbuild.component.wasi2`) driven directly from Python, as the component
runtime calls it: item names and arities checked against the WASI 0.2.12 WIT files of
`../shared/components/adapters/wit` (read here with a small parser of their own), then each
interface: environment, exit, stdio, clocks, random, poll, files in a temporary preopened directory
and the sandbox (the preview-1 attacks of tests/test_wasi.py: `..`, absolute paths, links to
outside, a directory renamed under its descriptor). Expected values are hand-computed from what
the test set up, or the host's own view of the same files (os.stat).

The shared data directory is `$WASMBUILD_SHARED_DIR` or `../shared` next to the repository.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import time

import pytest

from conftest import need
from wasmbuild.component.values import Err, Ok, Record, Variant
from wasmbuild.component.wasi2 import MAX_RANDOM, Wasi2, Wasi2Exit, interface_key
from wasmbuild.loader.runtime import Trap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("WASMBUILD_SHARED_DIR") or os.path.join(os.path.dirname(REPO), "shared")
WIT_DIR = os.path.join(SHARED, "components", "adapters", "wit", "0.2.12")
WIT_PACKAGES = ("wasi-cli", "wasi-clocks", "wasi-filesystem", "wasi-io", "wasi-random", "wasi-sockets")


# --- the item names, from the WIT files -------------------------------------------------------------

def _block(text: str, open_at: int) -> tuple[str, int]:
    """The text inside the braces opening at `open_at`, and the index after the closing one."""
    depth, i = 0, open_at
    while True:
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1:i], i + 1
        i += 1


def _functions(body: str):
    """(name, number of parameters, unstable) of each `name: func(...)` in `body`."""
    for m in re.finditer(r"(@unstable\([^)]*\)\s*)?%?([\w-]+)\s*:\s*func\s*\(([^)]*)\)", body):
        yield m.group(2), len(re.findall(r"[%\w-]+\s*:", m.group(3))), bool(m.group(1))


def wit_items() -> dict[str, dict[str, int | None]]:
    """{interface: {import item name: parameter count (the resource included for a method), None
    for a resource type}} of the stable items of the WIT packages."""
    found: dict[str, dict] = {}
    for package in WIT_PACKAGES:
        text = open(os.path.join(need("WASI WIT files", WIT_DIR if os.path.isdir(WIT_DIR) else None,
                                      "../shared/components"), package, "package.wit")).read()
        namespace = re.search(r"package ([\w-]+:[\w-]+)@", text).group(1)
        for m in re.finditer(r"(@unstable\([^)]*\)\s*)?interface ([\w-]+)\s*\{", text):
            body, _ = _block(text, m.end() - 1)
            if m.group(1):
                continue
            items = found.setdefault(f"{namespace}/{m.group(2)}", {})
            rest = body
            for r in re.finditer(r"resource ([\w-]+)\s*([;{])", body):
                items[r.group(1)] = None
                if r.group(2) == "{":
                    inner, _ = _block(body, r.end() - 1)
                    rest = rest.replace(inner, "")
                    for name, params, unstable in _functions(inner):
                        if not unstable:
                            items[f"[method]{r.group(1)}.{name}"] = params + 1
            for name, params, unstable in _functions(rest):
                if not unstable:
                    items[name] = params
    return found


@pytest.fixture
def host(tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    wasi = Wasi2(["prog", "a b", "ç"], {"K": "v", "EMPTY": ""}, {"/box": str(box)},
                 io.BytesIO(b"line one\nline two\n"), io.BytesIO(), io.BytesIO())
    yield wasi
    wasi.close()


def test_every_wit_item_is_provided_with_its_arity_and_nothing_else(host):
    expected = wit_items()
    del expected["wasi:cli/run"]  # what a command exports, not an import
    provided = host.interfaces()
    assert len(expected) == 27  # cli 10, clocks 2, filesystem 2, io 3, random 3, sockets 7
    assert sorted(provided) == sorted(expected)
    for interface, items in expected.items():
        extra = set(provided[interface]) - set(items)
        assert extra <= {"network-error-code"}, (interface, extra)  # unstable in WIT: harmless
        for name, params in items.items():
            value = provided[interface].get(name)
            assert value is not None, f"{interface} lacks {name}"
            if params is None:
                assert inspect.isclass(value), (interface, name)
            else:
                signature = inspect.signature(value).parameters.values()
                if any(p.kind is p.VAR_POSITIONAL for p in signature):
                    continue  # the sockets' methods that can never be reached take anything
                assert len(signature) == params, (interface, name)


def test_interface_keys_accept_every_0_2_version_and_no_other():
    assert interface_key("wasi:cli/stdin@0.2.12") == "wasi:cli/stdin"
    assert interface_key("wasi:io/streams@0.2.0") == "wasi:io/streams"
    assert interface_key("wasi:filesystem/preopens@0.2.6-rc-2024") == "wasi:filesystem/preopens"
    assert interface_key("wasi:cli/stdin") == "wasi:cli/stdin"
    assert interface_key("wasi:cli/stdin@0.3.0") is None
    assert interface_key("wasi:cli/stdin@1.2.0") is None


def item(host, interface, name):
    return host.interfaces()[interface][name]


# --- wasi:cli ---------------------------------------------------------------------------------------

def test_environment_and_arguments(host):
    env = host.interfaces()["wasi:cli/environment"]
    assert env["get-arguments"]() == ["prog", "a b", "ç"]
    assert env["get-environment"]() == [("K", "v"), ("EMPTY", "")]
    assert env["initial-cwd"]() is None
    assert Wasi2(env=[("A", "1"), ("A", "2")]).get_environment() == [("A", "1"), ("A", "2")]


@pytest.mark.parametrize("status, code", [(Ok(), 0), (Err(), 1)])
def test_exit_raises_with_the_status(host, status, code):
    with pytest.raises(Wasi2Exit) as e:
        item(host, "wasi:cli/exit", "exit")(status)
    assert e.value.code == code
    with pytest.raises(Wasi2Exit) as e:
        item(host, "wasi:cli/exit", "exit-with-code")(7)
    assert e.value.code == 7


def test_run_gives_the_exit_code():
    wasi = Wasi2(stdout=io.BytesIO(), stderr=io.BytesIO())
    assert wasi.run(lambda: Ok()) == 0
    assert wasi.run(lambda: Err()) == 1
    assert wasi.run(lambda: wasi.exit(Err())) == 1
    assert wasi.run(lambda: wasi.exit_with_code(3)) == 3


def test_stdout_and_stderr_are_captured(host):
    streams = host.interfaces()["wasi:io/streams"]
    out = item(host, "wasi:cli/stdout", "get-stdout")()
    err = item(host, "wasi:cli/stderr", "get-stderr")()
    permit = streams["[method]output-stream.check-write"](out)
    assert isinstance(permit, Ok) and permit.value >= 4096
    assert streams["[method]output-stream.write"](out, b"hello ") == Ok(None)
    assert streams["[method]output-stream.blocking-write-and-flush"](out, b"world\n") == Ok(None)
    assert streams["[method]output-stream.blocking-write-zeroes-and-flush"](out, 2) == Ok(None)
    assert streams["[method]output-stream.blocking-write-and-flush"](err, b"oops\n") == Ok(None)
    assert streams["[method]output-stream.flush"](out) == Ok(None)
    assert host.stdout.getvalue() == b"hello world\n\0\0"
    assert host.stderr.getvalue() == b"oops\n"
    assert streams["[method]output-stream.subscribe"](out).ready()
    out.drop()  # the guest's handle goes; the host's stream stays usable
    assert not host.stdout.closed


def test_write_zeroes_beyond_what_check_write_allows_traps(host):
    out = host.get_stdout()
    with pytest.raises(Trap):
        out.write_zeroes(out.check_write().value + 1)


def test_a_closed_host_stream_is_a_closed_stream(host):
    out = host.get_stdout()
    host.stdout.close()
    result = out.write(b"x")
    assert isinstance(result, Err) and result.value.case == "last-operation-failed"
    assert isinstance(result.value.payload.to_debug_string(), str)
    assert out.write(b"x") == Err(Variant("closed"))
    assert out.check_write() == Err(Variant("closed"))


def test_stdin_reads_then_ends_closed(host):
    stdin = item(host, "wasi:cli/stdin", "get-stdin")()
    streams = host.interfaces()["wasi:io/streams"]
    assert streams["[method]input-stream.read"](stdin, 5) == Ok(b"line ")
    assert streams["[method]input-stream.read"](stdin, 0) == Ok(b"")
    assert streams["[method]input-stream.skip"](stdin, 4) == Ok(4)
    assert streams["[method]input-stream.blocking-read"](stdin, 100) == Ok(b"line two\n")
    assert streams["[method]input-stream.blocking-read"](stdin, 100) == Err(Variant("closed"))
    assert streams["[method]input-stream.read"](stdin, 1) == Err(Variant("closed"))


def test_splice_copies_stdin_to_stdout(host):
    stdin, out = host.get_stdin(), host.get_stdout()
    assert out.splice(stdin, 9) == Ok(9)
    assert out.blocking_splice(stdin, 1000) == Ok(9)
    assert out.splice(stdin, 1) == Err(Variant("closed"))
    assert host.stdout.getvalue() == b"line one\nline two\n"


def test_no_stream_is_a_terminal_unless_the_host_file_is(host):
    assert item(host, "wasi:cli/terminal-stdin", "get-terminal-stdin")() is None
    assert item(host, "wasi:cli/terminal-stdout", "get-terminal-stdout")() is None
    assert item(host, "wasi:cli/terminal-stderr", "get-terminal-stderr")() is None

    class Tty(io.BytesIO):
        def isatty(self):
            return True
    wasi = Wasi2(stdout=Tty())
    assert isinstance(wasi.get_terminal_stdout(), item(wasi, "wasi:cli/terminal-output", "terminal-output"))


# --- clocks, poll, random -------------------------------------------------------------------------

def test_monotonic_clock_does_not_go_back_and_wall_clock_is_now(host):
    clock = host.interfaces()["wasi:clocks/monotonic-clock"]
    readings = [clock["now"]() for _ in range(1000)]
    assert readings == sorted(readings)
    assert clock["resolution"]() >= 1
    before = time.time_ns()
    wall = item(host, "wasi:clocks/wall-clock", "now")()
    after = time.time_ns()
    ns = wall.seconds * 1_000_000_000 + wall.nanoseconds
    assert before // 1000 <= ns // 1000 <= after // 1000 + 1 and 0 <= wall.nanoseconds < 1_000_000_000
    res = item(host, "wasi:clocks/wall-clock", "resolution")()
    assert res.seconds * 1_000_000_000 + res.nanoseconds >= 1


def test_clock_pollables_wait_until_they_are_due(host):
    clock = host.interfaces()["wasi:clocks/monotonic-clock"]
    poll = host.interfaces()["wasi:io/poll"]
    start = time.monotonic_ns()
    late = clock["subscribe-duration"](10_000_000_000)
    soon = clock["subscribe-duration"](20_000_000)       # 20 ms
    past = clock["subscribe-instant"](start - 1)
    assert poll["[method]pollable.ready"](past) and not poll["[method]pollable.ready"](late)
    assert poll["poll"]([late, past]) == [1]               # one is ready: no wait
    assert poll["poll"]([late, soon, late]) == [1]         # waits for the earliest only
    assert time.monotonic_ns() - start >= 20_000_000
    assert not late.ready()
    block = clock["subscribe-duration"](5_000_000)
    poll["[method]pollable.block"](block)
    assert block.ready()
    stream_ready = host.interfaces()["wasi:io/streams"]["[method]input-stream.subscribe"](host.get_stdin())
    assert poll["poll"]([late, stream_ready]) == [1]
    with pytest.raises(Trap):
        poll["poll"]([])


@pytest.mark.parametrize("interface, name", [("wasi:random/random", "get-random-bytes"),
                                             ("wasi:random/insecure", "get-insecure-random-bytes")])
def test_random_bytes_have_the_length_asked(host, interface, name):
    get = item(host, interface, name)
    assert [len(get(n)) for n in (0, 1, 16, 1000)] == [0, 1, 16, 1000]
    assert get(32) != get(32)
    with pytest.raises(Trap):
        get(MAX_RANDOM + 1)
    with pytest.raises(Trap):
        get((1 << 64) - 1)


def test_random_u64_and_insecure_seed(host):
    values = {item(host, "wasi:random/random", "get-random-u64")() for _ in range(8)}
    assert len(values) > 1 and all(0 <= v < 1 << 64 for v in values)
    seed = item(host, "wasi:random/insecure-seed", "insecure-seed")()
    assert seed == item(host, "wasi:random/insecure-seed", "insecure-seed")()  # the same every call
    assert len(seed) == 2 and all(0 <= v < 1 << 64 for v in seed)


def test_sockets_are_refused(host):
    faces = host.interfaces()
    network = faces["wasi:sockets/instance-network"]["instance-network"]()
    assert isinstance(network, faces["wasi:sockets/network"]["network"])
    assert faces["wasi:sockets/tcp-create-socket"]["create-tcp-socket"]("ipv4") == Err("access-denied")
    assert faces["wasi:sockets/udp-create-socket"]["create-udp-socket"]("ipv6") == Err("access-denied")
    assert faces["wasi:sockets/ip-name-lookup"]["resolve-addresses"](network, "localhost") == Err("access-denied")


# --- the filesystem ---------------------------------------------------------------------------------

FOLLOW, NOFOLLOW = {"symlink-follow"}, set()
RW = {"read", "write"}


def root(host):
    [(descriptor, guest)] = item(host, "wasi:filesystem/preopens", "get-directories")()
    assert guest == "/box"
    return descriptor


def ok(result):
    assert isinstance(result, Ok), result
    return result.value


def test_preopen_is_a_readable_mutable_directory(host):
    d = root(host)
    assert ok(d.get_type()) == "directory"
    assert ok(d.get_flags()) == {"read", "mutate-directory"}
    assert ok(d.stat()).type == "directory"
    assert d.read_via_stream(0) == Err("bad-descriptor")  # a directory is not a file


def test_files_are_written_read_and_listed(host, tmp_path):
    d = root(host)
    fs = host.interfaces()["wasi:filesystem/types"]
    f = ok(fs["[method]descriptor.open-at"](d, NOFOLLOW, "new.txt", {"create", "exclusive"}, RW))
    assert ok(f.get_type()) == "regular-file" and ok(f.get_flags()) == RW
    out = ok(fs["[method]descriptor.write-via-stream"](f, 0))
    assert out.blocking_write_and_flush(b"hello, ") == Ok(None)
    assert out.write(b"world") == Ok(None)
    out.drop()
    appender = ok(f.append_via_stream())
    assert appender.write(b"!\n") == Ok(None)
    appender.drop()
    assert (tmp_path / "box" / "new.txt").read_bytes() == b"hello, world!\n"
    assert ok(f.write(b"J", 7)) == 1
    assert ok(f.read(5, 7)) == (b"Jorld", False)
    assert ok(f.read(100, 7)) == (b"Jorld!\n", True)
    stream = ok(f.read_via_stream(7))
    assert stream.read(3) == Ok(b"Jor") and stream.read(100) == Ok(b"ld!\n")
    assert stream.read(1) == Err(Variant("closed"))
    stream.drop()
    st = ok(f.stat())
    host_st = os.stat(tmp_path / "box" / "new.txt")
    assert (st.type, st.size, st.link_count) == ("regular-file", 14, 1)
    assert st.data_modification_timestamp == Record(seconds=host_st.st_mtime_ns // 10**9,
                                                    nanoseconds=host_st.st_mtime_ns % 10**9)
    assert ok(f.set_size(5)) is None and ok(f.stat()).size == 5
    assert f.open_at(NOFOLLOW, "x", set(), RW) == Err("not-directory")
    assert ok(d.stat_at(NOFOLLOW, "new.txt")).size == 5
    assert d.open_at(NOFOLLOW, "new.txt", {"create", "exclusive"}, RW) == Err("exist")
    assert d.open_at(NOFOLLOW, "missing.txt", set(), {"read"}) == Err("no-entry")
    assert d.open_at(NOFOLLOW, "other.txt", {"create"}, {"read"}) == Err("invalid")  # create needs write
    ok(d.create_directory_at("sub"))
    assert d.create_directory_at("sub") == Err("exist")
    (tmp_path / "box" / "sub" / "inner").write_bytes(b"12345678")
    listing = ok(fs["[method]descriptor.read-directory"](d))
    entries = []
    while (entry := ok(fs["[method]directory-entry-stream.read-directory-entry"](listing))) is not None:
        entries.append((entry.name, entry.type))
    assert entries == [("new.txt", "regular-file"), ("sub", "directory")]
    sub = ok(d.open_at(NOFOLLOW, "sub", {"directory"}, {"read"}))
    assert ok(sub.get_type()) == "directory" and ok(sub.stat_at(NOFOLLOW, "inner")).size == 8
    assert d.open_at(NOFOLLOW, "new.txt", {"directory"}, {"read"}) == Err("not-directory")
    f.drop()
    sub.drop()


def test_read_only_and_write_only_descriptors(host, tmp_path):
    (tmp_path / "box" / "data").write_bytes(b"data")
    d = root(host)
    r = ok(d.open_at(NOFOLLOW, "data", set(), {"read"}))
    assert r.write_via_stream(0) == Err("bad-descriptor") and r.write(b"x", 0) == Err("bad-descriptor")
    w = ok(d.open_at(NOFOLLOW, "data", {"truncate"}, {"write"}))
    assert w.read(4, 0) == Err("bad-descriptor") and w.read_via_stream(0) == Err("bad-descriptor")
    assert (tmp_path / "box" / "data").read_bytes() == b""


def test_rename_unlink_remove_links_times_and_hashes(host, tmp_path):
    box = tmp_path / "box"
    (box / "a.txt").write_bytes(b"a")
    (box / "dir").mkdir()
    d = root(host)
    ok(d.rename_at("a.txt", d, "dir/b.txt"))
    assert (box / "dir" / "b.txt").read_bytes() == b"a" and not (box / "a.txt").exists()
    ok(d.link_at(NOFOLLOW, "dir/b.txt", d, "hard.txt"))
    assert os.stat(box / "hard.txt").st_ino == os.stat(box / "dir" / "b.txt").st_ino
    assert ok(d.metadata_hash_at(NOFOLLOW, "hard.txt")) == ok(d.metadata_hash_at(NOFOLLOW, "dir/b.txt"))
    assert ok(d.metadata_hash_at(NOFOLLOW, "hard.txt")) != ok(d.metadata_hash_at(NOFOLLOW, "dir"))
    ok(d.symlink_at("dir/b.txt", "soft"))
    assert ok(d.readlink_at("soft")) == "dir/b.txt"
    assert ok(d.stat_at(NOFOLLOW, "soft")).type == "symbolic-link"
    assert ok(d.stat_at(FOLLOW, "soft")).type == "regular-file"
    assert d.symlink_at("/etc/passwd", "abs") == Err("not-permitted") and not os.path.lexists(box / "abs")
    hard = ok(d.open_at(NOFOLLOW, "hard.txt", set(), {"read"}))
    other = ok(d.open_at(FOLLOW, "soft", set(), {"read"}))
    assert hard.is_same_object(other) and not hard.is_same_object(d)
    assert d.open_at(NOFOLLOW, "soft", set(), {"read"}) == Err("loop")  # asked not to follow it
    stamp = Variant("timestamp", Record(seconds=1_000_000_000, nanoseconds=5))
    ok(d.set_times_at(NOFOLLOW, "hard.txt", stamp, Variant("no-change")))
    st = os.stat(box / "hard.txt")
    assert st.st_atime_ns == 1_000_000_000 * 10**9 + 5
    ok(hard.set_times(Variant("no-change"), stamp))
    assert os.stat(box / "hard.txt").st_mtime_ns == 1_000_000_000 * 10**9 + 5
    assert d.unlink_file_at("dir") == Err("is-directory")
    assert d.remove_directory_at("dir") == Err("not-empty")
    ok(d.unlink_file_at("dir/b.txt"))
    ok(d.remove_directory_at("dir"))
    assert sorted(os.listdir(box)) == ["hard.txt", "soft"]


def test_filesystem_error_code_of_a_stream_error(host, tmp_path):
    (tmp_path / "box" / "f").write_bytes(b"f")
    f = ok(root(host).open_at(NOFOLLOW, "f", set(), {"read", "write"}))
    out = ok(f.write_via_stream(0))
    os.close(out.sink.file.os_fd)  # the host file goes away under the stream
    out.sink.file.os_fd = os.open(tmp_path / "box" / "f", os.O_RDONLY)
    result = out.write(b"x")
    assert isinstance(result, Err) and result.value.case == "last-operation-failed"
    code = item(host, "wasi:filesystem/types", "filesystem-error-code")
    assert code(result.value.payload) == "bad-descriptor"
    assert code(item(host, "wasi:io/error", "error")("not a file")) is None


def test_close_closes_every_file_the_guest_kept(tmp_path):
    (tmp_path / "f").write_bytes(b"f")
    wasi = Wasi2(preopens={"/": str(tmp_path)})
    before = len(os.listdir("/proc/self/fd"))
    [(d, _)] = wasi.get_directories()
    ok(d.open_at(NOFOLLOW, "f", set(), {"read"})).read_via_stream(0)
    assert len(os.listdir("/proc/self/fd")) == before + 3
    wasi.close()
    assert len(os.listdir("/proc/self/fd")) == before - 1  # the preopen's own too


def test_a_preopen_that_is_not_a_directory_is_refused(tmp_path):
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        Wasi2(preopens={"/x": str(tmp_path / "f")})


# --- the sandbox: preview 1's attacks ----------------------------------------------------------------

@pytest.fixture
def box(tmp_path):
    """As tests/test_wasi.py's: /box with a file, a directory `a` (holding `inside`), links that
    stay inside and links to a directory outside (`outside/secret`)."""
    box, outside = tmp_path / "box", tmp_path / "outside"
    (box / "a").mkdir(parents=True)
    outside.mkdir()
    (box / "file.txt").write_text("in the box")
    (box / "a" / "inside").write_text("inside")
    (outside / "secret").write_text("secret")
    os.symlink(str(outside), str(box / "link"))         # absolute, outside
    os.symlink("../outside", str(box / "rel"))           # relative, outside
    os.symlink("a/../../outside", str(box / "sneaky"))   # climbs out through a directory inside
    os.symlink("a", str(box / "inlink"))                 # stays inside
    os.symlink("loop", str(box / "loop"))
    wasi = Wasi2(preopens={"/box": str(box)})
    yield box, root(wasi)
    wasi.close()


OUTSIDE_LINKS = ["link", "rel", "sneaky", "a/../link", "inlink/../link"]
ESCAPES = ["../escaped", "a/../../escaped", "/etc/escaped", "/escaped"] + [p + "/escaped" for p in OUTSIDE_LINKS]


def _outside_untouched(box):
    outside = box.parent / "outside"
    return sorted(os.listdir(outside)) == ["secret"] and (outside / "secret").read_text() == "secret" \
        and sorted(os.listdir(box.parent)) == ["box", "outside"]


@pytest.mark.parametrize("path", ESCAPES)
def test_no_path_method_leaves_the_preopen(box, path):
    box, d = box
    for flags in (FOLLOW, NOFOLLOW):
        assert d.open_at(flags, path, {"create"}, RW) == Err("not-permitted")
        assert d.open_at(flags, path, {"directory"}, {"read"}) == Err("not-permitted")
        assert d.stat_at(flags, path) == Err("not-permitted")
        assert d.metadata_hash_at(flags, path) == Err("not-permitted")
        assert d.set_times_at(flags, path, Variant("now"), Variant("now")) == Err("not-permitted")
        assert d.link_at(flags, "file.txt", d, path) == Err("not-permitted")
        assert d.link_at(flags, path, d, "stolen") == Err("not-permitted")
    assert d.create_directory_at(path) == Err("not-permitted")
    assert d.remove_directory_at(path) == Err("not-permitted")
    assert d.unlink_file_at(path) == Err("not-permitted")
    assert d.rename_at(path, d, "stolen") == Err("not-permitted")
    assert d.rename_at("file.txt", d, path) == Err("not-permitted")
    assert d.symlink_at("file.txt", path) == Err("not-permitted")
    assert d.readlink_at(path) == Err("not-permitted")
    assert _outside_untouched(box) and (box / "file.txt").exists() and not os.path.lexists(box / "stolen")


@pytest.mark.parametrize("path", OUTSIDE_LINKS)
def test_no_descriptor_names_a_directory_outside(box, path):
    box, d = box
    outside = os.stat(box.parent / "outside")
    for flags in (FOLLOW, NOFOLLOW):
        for open_flags in (set(), {"directory"}):
            result = d.open_at(flags, path, open_flags, {"read"})
            # not followed, the link is no directory (and is not opened: O_NOFOLLOW)
            assert result in (Err("not-permitted"), Err("loop"), Err("not-directory")), result
    assert d.stat_at(FOLLOW, path) == Err("not-permitted")
    # not following the link in last place describes the link itself, which is inside
    st = ok(d.stat_at(NOFOLLOW, path))
    assert st.type == "symbolic-link"
    assert ok(d.metadata_hash_at(NOFOLLOW, ".")) != ok(d.metadata_hash_at(NOFOLLOW, "a"))
    assert (outside.st_dev, outside.st_ino) != (os.stat(box).st_dev, os.stat(box).st_ino)


def test_links_inside_the_preopen_work_and_loops_end(box):
    box, d = box
    f = ok(d.open_at(FOLLOW, "inlink/inside", set(), {"read"}))
    assert ok(f.read(100, 0)) == (b"inside", True)
    assert ok(ok(d.open_at(FOLLOW, "inlink", {"directory"}, {"read"})).get_type()) == "directory"
    assert d.open_at(NOFOLLOW, "inlink", set(), {"read"}) == Err("loop")
    assert d.open_at(FOLLOW, "loop", set(), {"read"}) == Err("loop")
    assert d.open_at(FOLLOW, "missing/x", set(), {"read"}) == Err("no-entry")
    assert d.open_at(FOLLOW, "file.txt/x", set(), {"read"}) == Err("not-directory")
    assert ok(d.open_at(FOLLOW, "a/..", {"directory"}, {"read"})).is_same_object(d)
    assert d.open_at(FOLLOW, "a/../..", {"directory"}, {"read"}) == Err("not-permitted")
    assert d.open_at(FOLLOW, "", set(), {"read"}) == Err("no-entry")
    assert d.open_at(FOLLOW, "a\0b", set(), {"read"}) == Err("invalid")


def test_a_directory_descriptor_names_the_directory_not_its_path(box):
    # Open /box/a, rename it away and put the link to outside in its place: the descriptor still
    # lists the directory it was opened on, and paths from it stay in it.
    box, d = box
    a = ok(d.open_at(NOFOLLOW, "a", {"directory"}, {"read"}))
    ok(d.rename_at("a", d, "a2"))
    os.rename(box / "link", box / "a")
    listing = ok(a.read_directory())
    assert ok(listing.read_directory_entry()) == Record(type="regular-file", name="inside")
    assert ok(listing.read_directory_entry()) is None
    assert ok(a.open_at(NOFOLLOW, "inside", set(), {"read"})).read(100, 0) == Ok((b"inside", True))
    assert a.open_at(FOLLOW, "../link", set(), {"read"}) == Err("not-permitted")
    assert a.open_at(FOLLOW, "../a/secret", set(), {"read"}) == Err("not-permitted")
    assert _outside_untouched(box)
