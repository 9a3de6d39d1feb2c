"""The opcode table: its named constants and its table of what immediates index."""

from wasmbuild.contract import opcodes as ops


def test_every_instruction_has_one_constant_named_after_it():
    assert sorted(ops.OPCODES.values()) == sorted(ops.NAMES)
    for constant, op in ops.OPCODES.items():
        assert getattr(ops, constant) == op
        if op != ops.SELECT_T:
            assert constant == ops.NAMES[op].upper().replace(".", "_")
    assert ops.NAMES[ops.SELECT_T] == ops.NAMES[ops.SELECT] == "select"
    assert ops.IMMEDIATES[ops.SELECT_T] == ops.IMM_SELECT_T


def test_constants_are_the_opcode_numbers():
    assert (ops.UNREACHABLE, ops.END, ops.LOCAL_GET, ops.I32_ADD, ops.REF_FUNC) == (0x00, 0x0B, 0x20, 0x6A, 0xD2)
    assert (ops.MEMORY_INIT, ops.TABLE_FILL) == (ops.FC | 8, ops.FC | 17)
    assert (ops.V128_CONST, ops.I8X16_SHUFFLE, ops.F64X2_CONVERT_LOW_I32X4_U) == (ops.FD | 0x0C, ops.FD | 0x0D,
                                                                                ops.FD | 0xFF)


def test_indexes_name_the_index_parts_of_immediates():
    spaces = {ops.FUNC_INDEX, ops.TYPE_INDEX, ops.TABLE_INDEX, ops.GLOBAL_INDEX, ops.DATA_INDEX, ops.ELEM_INDEX,
              ops.TAG_INDEX}
    pairs = {ops.IMM_CALL_INDIRECT, ops.IMM_ELEM_TABLE, ops.IMM_TABLE_TABLE}
    for op, indexes in ops.INDEXES.items():
        assert {space for _, space in indexes} <= spaces
        parts = [part for part, _ in indexes]
        if ops.IMMEDIATES[op] in pairs:
            assert sorted(parts) == [0, 1]
        elif op == ops.TRY_TABLE:
            assert indexes == ((ops.CATCH_TAGS, ops.TAG_INDEX),)  # the tag of each catch clause
        elif ops.IMMEDIATES[op] == ops.IMM_DATA_MEMORY:
            assert parts == [0]  # (data, memory): memories have fixed vmctx offsets, no references
        else:
            assert parts == [None]  # the immediate is the index
    assert ops.INDEXES[ops.CALL_INDIRECT] == ((1, ops.TABLE_INDEX), (0, ops.TYPE_INDEX))  # table numbered first
    named = {ops.NAMES[op] for op in ops.INDEXES}
    assert named == {"call", "call_indirect", "global.get", "global.set", "table.get", "table.set", "table.size",
                     "table.grow", "table.fill", "ref.func", "memory.init", "data.drop", "table.init", "elem.drop",
                     "table.copy", "throw", "try_table", "catch", "return_call", "return_call_indirect", "call_ref",
                     "return_call_ref"}


def test_opcodes_by_mnemonic():
    assert all(ops.opcode(mnemonic) == op for op, mnemonic in ops.NAMES.items() if op != ops.SELECT_T)
    assert ops.opcode("select") == ops.SELECT
    assert ops.by_opcode(("i32", "f64x2"), {"add": 1, "sub": 2}) == {ops.I32_ADD: 1, ops.I32_SUB: 2,
                                                                      ops.F64X2_ADD: 1, ops.F64X2_SUB: 2}
