"""The optimisation pipeline of `compile.py`: a giant function (more than GIANT_FUNCTION wasm
instructions) takes the cheaper way at -O2 and computes what the ordinary way computes."""

from __future__ import annotations

import random

import pytest
from conftest import wat

import wasmbuild
from wasmbuild import compile as compile_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings


def _giant_function_wat(instructions: int, seed: int = 1) -> str:
    """A function `run(seed) -> i32` of about `instructions` instructions: loads, stores and
    arithmetic over 16 locals in nested blocks left by br_if; it returns a digest of its locals."""
    rnd = random.Random(seed)
    body, count, depth = [], 0, 0
    while count < instructions:
        r = rnd.random()
        a, b, c = rnd.randrange(16), rnd.randrange(16), rnd.randrange(16)
        if r < 0.05 and depth < 20:
            body.append("(block")
            depth, count = depth + 1, count + 1
        elif r < 0.08 and depth:
            body.append(f"(br_if 0 (i32.eqz (i32.and (local.get $l{a}) (i32.const 7))))")
            count += 5
        elif r < 0.10 and depth:
            body.append(")")
            depth, count = depth - 1, count + 1
        elif r < 0.40:
            body.append(f"(local.set $l{c} (i32.load offset={rnd.randrange(0, 60000, 4)} "
                        f"(i32.and (local.get $l{a}) (i32.const 1020))))")
            count += 5
        elif r < 0.55:
            body.append(f"(i32.store offset={rnd.randrange(0, 60000, 4)} (i32.and (local.get $l{a}) "
                        f"(i32.const 1020)) (local.get $l{b}))")
            count += 5
        else:
            op = rnd.choice(["add", "sub", "mul", "xor", "or", "shl", "rotl"])
            body.append(f"(local.set $l{c} (i32.{op} (i32.add (local.get $l{a}) (i32.const {rnd.randrange(1 << 20)})) "
                        f"(local.get $l{b})))")
            count += 6
    body.append(")" * depth)
    locals_ = " ".join(f"(local $l{i} i32)" for i in range(16))
    init = " ".join(f"(local.set $l{i} (i32.mul (local.get $seed) (i32.const {2 * i + 3})))" for i in range(16))
    digest = "(local.get $l0)" + "".join(f" (i32.xor (local.get $l{i})) (i32.rotl (i32.const 5))" for i in range(1, 16))
    return (f'(module (memory (export "mem") 1) (func (export "run") (param $seed i32) (result i32) {locals_} {init}\n'
            + "\n".join(body) + f"\n{digest}))")


@pytest.fixture(scope="module")
def giant():
    return wat(_giant_function_wat(60_000))


def _results(data: bytes, tmp_path, name: str) -> list:
    image, _report = build_image([ModuleInput("giant", data)], CompileSettings(opt_level=2), jobs=1)
    path = tmp_path / f"{name}.img"
    path.write_bytes(image)
    e = wasmbuild.load(str(path)).exports
    return [(e["run"](seed), e["mem"].read(0, 65536)) for seed in (1, 12345)]


def test_a_giant_function_computes_the_same_both_ways(giant, tmp_path, monkeypatch):
    cheap = _results(giant, tmp_path, "cheap")  # 60,000 instructions: above GIANT_FUNCTION
    monkeypatch.setattr(compile_module, "GIANT_FUNCTION", 10 ** 9)
    ordinary = _results(giant, tmp_path, "ordinary")
    assert cheap == ordinary
    assert any(m != bytes(65536) for _r, m in cheap)  # the stores did something
