"""Running aarch64 images on this (x86-64) machine: Debian's qemu-user and an aarch64 Python.

The loader is pure Python plus ctypes, so an aarch64 CPython running under `qemu-aarch64-static`
loads and runs aarch64 images for real: its `platform.machine()` is 'aarch64', its libc provides
`_setjmp`/`_longjmp`/`memmove`, ctypes calls into the mapped code, and traps unwind through the
aarch64 `_longjmp`. `tools/setup-qemu.sh` puts the pieces in place: the qemu-user-static
package and a sysroot made of Debian's arm64 packages of Python, libc, libgcc, libffi (extracted
with `dpkg -x`, nothing installed system-wide).

Host side:
- `find_emulator(arch)` gives an `Emulator` (qemu binary, sysroot, the Python in it) or None;
- `prebuild_wast(scripts, settings, directory)` compiles every module a spec script builds, for the
  target of `settings`, into `directory` (one image per module, named by the hash of its bytes),
  and records the wasm features of `settings` there for the guest's runner (`FEATURES_FILE`).

Guest side (`python -m wasmbuild.testing.qemu wast DIRECTORY SCRIPT...`, run by the emulated
Python): runs the scripts with the same `wast.ScriptRunner`, taking each image from DIRECTORY
instead of compiling (the guest has no LLVM: `llvmlite.binding` is stubbed, the pure-Python
`llvmlite.ir` comes from the host's site-packages through $WASMBUILD_LLVMLITE_PATH). Prints the
runner's `N passed, M failed, K skipped` line and the failures.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def qemu_dir() -> str:
    """Where tools/setup-qemu.sh puts the sysroots: $WASMBUILD_QEMU_DIR or ~/.cache/wasmbuild-qemu."""
    return os.environ.get("WASMBUILD_QEMU_DIR") or os.path.join(os.path.expanduser("~"), ".cache",
                                                                "wasmbuild-qemu")


@dataclass
class Emulator:
    arch: str
    qemu: str
    sysroot: str
    python: str  # path of the guest's python inside the sysroot (as the guest sees it)

    def run_python(self, args: list[str], cwd: str | None = None, timeout: float = 600,
                   env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the guest Python with `args`, importing this checkout's wasmbuild."""
        import llvmlite
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "QEMU_LD_PREFIX": self.sysroot,
             "PYTHONPATH": REPO, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
             "WASMBUILD_LLVMLITE_PATH": os.path.dirname(os.path.dirname(llvmlite.__file__))}
        e.update(env or {})
        return subprocess.run([self.qemu, self.sysroot + self.python, *args], cwd=cwd, env=e,
                              capture_output=True, text=True, timeout=timeout)


def find_emulator(arch: str) -> Emulator | None:
    """qemu-user for `arch` ('aarch64', 's390x', ...) and its sysroot, if set up."""
    qemu = shutil.which(f"qemu-{arch}-static") or shutil.which(f"qemu-{arch}")
    sysroot = os.path.join(qemu_dir(), arch)
    bindir = os.path.join(sysroot, "usr", "bin")
    if not qemu or not os.path.isdir(bindir):
        return None
    pythons = sorted(f for f in os.listdir(bindir) if f.startswith("python3."))
    if not pythons:
        return None
    return Emulator(arch, qemu, sysroot, "/usr/bin/" + pythons[-1])


def _image_name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32] + ".img"


FEATURES_FILE = "wasm-features"  # in the prebuilt directory: the `--wasm-features` of the build


def prebuild_wast(scripts: list[str], settings, directory: str) -> int:
    """Compile every module the scripts build into `directory`; gives the number of images."""
    import pickle
    from ..build import BuildSession, ModuleInput
    from ..errors import WasmbuildError
    from ..wast import ScriptRunner, _Skip

    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, FEATURES_FILE), "w", encoding="utf-8") as f:
        f.write(settings.wasm_features)
    count = 0

    class Prebuild(ScriptRunner):
        def _build(self, cmd):
            nonlocal count
            data = self._read(cmd)
            path = os.path.join(directory, _image_name(data))
            if not os.path.exists(path) and not os.path.exists(path + ".err"):
                try:
                    image, _report = session.build([ModuleInput(cmd["filename"], data, cmd["filename"])])
                except WasmbuildError as e:  # the guest raises it again
                    with open(path + ".err", "wb") as f:
                        pickle.dump(e, f)
                else:
                    with open(path, "wb") as f:
                        f.write(image)
                    count += 1
            raise _Skip("prebuilt")

    session = BuildSession(settings)
    for script in scripts:
        Prebuild(script, session=session).run()
    return count


def _guest_wast(directory: str, scripts: list[str]) -> int:
    import pickle
    import types
    extra = os.environ.get("WASMBUILD_LLVMLITE_PATH")
    if extra:
        sys.path.append(extra)
    stub = types.ModuleType("llvmlite.binding")  # no LLVM here: nothing is compiled
    sys.modules["llvmlite.binding"] = stub
    from ..compile import CompileSettings
    from ..loader.instance import load_image
    from ..wast import FAIL, Report, ScriptRunner

    class Prebuilt(ScriptRunner):
        def _build(self, cmd):
            data = self._read(cmd)
            path = os.path.join(directory, _image_name(data))
            if os.path.exists(path + ".err"):
                with open(path + ".err", "rb") as f:
                    raise pickle.load(f)
            with open(path, "rb") as f:
                image = f.read()
            return load_image(self.store, image, cmd["filename"])

    features_path = os.path.join(directory, FEATURES_FILE)
    wasm_features = ""
    if os.path.exists(features_path):
        with open(features_path, encoding="utf-8") as f:
            wasm_features = f.read()
    settings = CompileSettings(wasm_features=wasm_features)  # what the runner decodes with
    report = Report()
    for script in scripts:
        report.outcomes.extend(Prebuilt(script, settings=settings).run())
    for o in report.outcomes:
        if o.status == FAIL:
            print(o)
    print(report.summary_line())
    return 1 if report.counts()[FAIL] else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "wast":
        sys.exit(_guest_wast(sys.argv[2], sys.argv[3:]))
    print(__doc__)
    sys.exit(2)
