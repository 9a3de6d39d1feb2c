"""SCons tool for this source tree: the package's tool (`wasmbuild.scons_tool`), run from this checkout.

Takes an Environment; gives it what `wasmbuild.scons_tool.generate` gives (WasmModule, WasmGraph,
WasmCheck, WasmTest, WasmPackage, WasmComponent, WasiAdapter and the WASMBUILD_* variables). This
checkout's `wasmbuild` package comes first
on sys.path and on the PYTHONPATH of the commands the builders run, so `scons` here builds and checks
with the code in this tree even when another copy of wasmbuild is installed (or none is).

Named `wasmbuild_tree`, not `wasmbuild`: a site tool named like a package shadows it.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import wasmbuild.scons_tool  # noqa: E402


def generate(env):
    wasmbuild.scons_tool.generate(env)
    env.PrependENVPath("PYTHONPATH", ROOT)


def exists(env):
    return wasmbuild.scons_tool.exists(env)
