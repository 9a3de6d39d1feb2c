"""The locals limit: more than 50,000 locals (parameters included) are invalid ("too many locals").

Takes modules written with `wasmbuild.testing.gen`; gives tests that 50,000 locals validate, 50,001
do not, and that a huge count is refused before anything is compiled.
"""

from __future__ import annotations

import pytest

from wasmbuild.binary import decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.errors import InvalidError
from wasmbuild.testing import gen
from wasmbuild.valid import validate_module


def _locals_module(params, runs) -> bytes:
    """Export `f`: a function with `params` and the local declarations `runs` that returns 7."""
    mb = gen.ModuleBuilder()
    mb.func(params=params, results=(gen.I32,), locals_=runs, body=gen.i32_const(7) + gen.OP["end"], export="f")
    return mb.build()


# --- the locals limit ---------------------------------------------------------------------------

@pytest.mark.parametrize("params,runs,valid", [
    ((), [(50_000, gen.I32)], True),
    ((gen.I32, gen.V128), [(49_000, gen.V128), (998, gen.F64)], True),
    ((gen.I32,), [(50_000, gen.I32)], False),
    ((), [(30_000, gen.V128), (20_001, gen.I64)], False),
])
def test_at_most_50000_locals_with_the_parameters(params, runs, valid):
    m = decode_module(_locals_module(params, runs))
    if valid:
        validate_module(m)
        return
    with pytest.raises(InvalidError) as info:
        validate_module(m)
    assert info.value.reason.startswith("too many locals: 50001 with the parameters, at most 50000")
    assert str(info.value).startswith("func 0: offset ") and "\n" not in str(info.value)


def test_a_huge_local_count_is_refused_before_anything_is_compiled():
    with pytest.raises(InvalidError, match="too many locals: 600000"):
        build_image([ModuleInput("m", _locals_module((), [(600_000, gen.V128)]))], CompileSettings(opt_level=0))
