"""Fuzz the decoder and validator with mutants of the spec suite's modules, and print the figures.

Takes `--count N` (default 20000) mutants made with `--seed S` (default 1234) from every `.wasm` under
`--spec-dir` (default `$WASMBUILD_SPEC_DIR` or `../shared/spec`, its `core` directory) and `--timeout`
seconds allowed per mutant (default 5). Gives, on stdout: mutants tried, accepted (valid), malformed,
invalid, other exceptions (must be 0; the first few are printed with seed, index and edits),
mutants/s and the slowest mutant. Exits 1 if any mutant raised anything but MalformedError or
InvalidError, or hung. The mutations live in `wasmbuild.testing.mutate`, shared with
tests/test_robustness.py; a mutant is rebuilt with `mutate.mutant_at(corpus, seed, index)`.

    python bench/fuzz_decode.py --count 20000 --seed 1234
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wasmbuild.testing import mutate, spec_dir  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=20_000, help="number of mutants (default 20000)")
    ap.add_argument("--seed", type=int, default=1234, help="master seed (default 1234)")
    ap.add_argument("--spec-dir", default=None, help="spec suite directory (its core/ is used)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds allowed per mutant")
    args = ap.parse_args(argv)

    core = os.path.normpath(os.path.join(args.spec_dir or spec_dir(), "core"))
    if not os.path.isdir(core):
        print(f"spec suite not found at {core} (set WASMBUILD_SPEC_DIR or --spec-dir)", file=sys.stderr)
        return 2
    corpus = mutate.load_corpus(core)
    print(f"corpus             {len(corpus)} modules, {sum(len(d) for _, d in corpus)} bytes from {core}")
    report = mutate.run(corpus, args.seed, args.count, timeout=args.timeout)
    print(report.summary())
    if not report.ok:
        print("FAILED: see above; rebuild a mutant with "
              "wasmbuild.testing.mutate.mutant_at(corpus, seed, index)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
