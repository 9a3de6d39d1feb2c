/* interp: a bytecode interpreter running three small programs; prints their results.
 *
 * Usage: interp [N]   (default 80000)
 * A stack machine with 64-bit values, locals in call frames and a switch-dispatched loop. Its
 * programs are assembled at start-up (with labels patched in a second pass):
 *   collatz(N)  the start below N+1 with the longest Collatz chain (and the chain's length);
 *   fib(25)     the naive doubly recursive Fibonacci (CALL/RET heavy);
 *   gcdsum(M)   the sum of gcd(a, b) over 1 <= a, b <= M, M = N / 500, Euclid with MOD.
 * Prints each result and the number of instructions executed. Indirect branches (the dispatch),
 * loads and stores of the VM stack, 64-bit arithmetic including division.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum op { CONST, LOCAL, SET, ENTER, ADD, SUB, MUL, DIV, MOD, AND, SHR, LT, LE, GT, NE,
          JMP, JZ, CALL, RET, PRINT, HALT };
static const char *const names[] = {"CONST", "LOCAL", "SET", "ENTER", "ADD", "SUB", "MUL", "DIV",
                                    "MOD", "AND", "SHR", "LT", "LE", "GT", "NE", "JMP", "JZ",
                                    "CALL", "RET", "PRINT", "HALT"};

struct insn { uint8_t op; uint8_t nargs; int32_t arg; };

/* ---- assembler: labels are small integers; forward uses are patched once all are placed ---- */
#define MAXCODE 1024
#define MAXLABELS 64
static struct insn code[MAXCODE];
static int ncode, label_at[MAXLABELS], uses[MAXCODE], nuses;

static void emit(enum op op, int32_t arg) { code[ncode].op = (uint8_t)op; code[ncode++].arg = arg; }
static void emit_to(enum op op, int label) { uses[nuses++] = ncode; emit(op, label); }
static void call(int label, int nargs) { code[ncode].nargs = (uint8_t)nargs; emit_to(CALL, label); }
static void place(int label) { label_at[label] = ncode; }
static void link_labels(void) { for (int i = 0; i < nuses; i++) code[uses[i]].arg = label_at[code[uses[i]].arg]; }

enum { L_COLLATZ, L_C_LOOP, L_C_INNER, L_C_EVEN, L_C_COUNT, L_C_DONE_N, L_C_NEXT, L_C_DONE,
       L_FIB, L_FIB_REC, L_GCDSUM, L_G_A, L_G_B, L_G_EUCLID, L_G_DONE_E, L_G_NEXT_A, L_G_DONE,
       L_MAIN };

static void assemble(int64_t n) {
    /* main: print collatz(n), fib(25), gcdsum(n / 500) */
    place(L_MAIN);
    emit(CONST, (int32_t)n); call(L_COLLATZ, 1); emit(PRINT, 0);
    emit(CONST, 25); call(L_FIB, 1); emit(PRINT, 0);
    emit(CONST, (int32_t)(n / 500)); call(L_GCDSUM, 1); emit(PRINT, 0);
    emit(HALT, 0);

    /* collatz(limit): locals 0 limit, 1 i, 2 best length, 3 best i, 4 x, 5 length */
    place(L_COLLATZ);
    emit(ENTER, 5);
    emit(CONST, 1); emit(SET, 1);
    place(L_C_LOOP);
    emit(LOCAL, 1); emit(LOCAL, 0); emit(LE, 0); emit_to(JZ, L_C_DONE);
    emit(LOCAL, 1); emit(SET, 4); emit(CONST, 0); emit(SET, 5);
    place(L_C_INNER);
    emit(LOCAL, 4); emit(CONST, 1); emit(NE, 0); emit_to(JZ, L_C_DONE_N);
    emit(LOCAL, 4); emit(CONST, 1); emit(AND, 0); emit_to(JZ, L_C_EVEN);
    emit(LOCAL, 4); emit(CONST, 3); emit(MUL, 0); emit(CONST, 1); emit(ADD, 0); emit(SET, 4);
    emit_to(JMP, L_C_COUNT);
    place(L_C_EVEN);
    emit(LOCAL, 4); emit(CONST, 1); emit(SHR, 0); emit(SET, 4);
    place(L_C_COUNT);
    emit(LOCAL, 5); emit(CONST, 1); emit(ADD, 0); emit(SET, 5); emit_to(JMP, L_C_INNER);
    place(L_C_DONE_N);
    emit(LOCAL, 5); emit(LOCAL, 2); emit(GT, 0); emit_to(JZ, L_C_NEXT);
    emit(LOCAL, 5); emit(SET, 2); emit(LOCAL, 1); emit(SET, 3);
    place(L_C_NEXT);
    emit(LOCAL, 1); emit(CONST, 1); emit(ADD, 0); emit(SET, 1); emit_to(JMP, L_C_LOOP);
    place(L_C_DONE);
    emit(LOCAL, 3); emit(CONST, 1000); emit(MUL, 0); emit(LOCAL, 2); emit(ADD, 0); emit(RET, 0);

    /* fib(k) */
    place(L_FIB);
    emit(LOCAL, 0); emit(CONST, 2); emit(LT, 0); emit_to(JZ, L_FIB_REC);
    emit(LOCAL, 0); emit(RET, 0);
    place(L_FIB_REC);
    emit(LOCAL, 0); emit(CONST, 1); emit(SUB, 0); call(L_FIB, 1);
    emit(LOCAL, 0); emit(CONST, 2); emit(SUB, 0); call(L_FIB, 1);
    emit(ADD, 0); emit(RET, 0);

    /* gcdsum(m): locals 0 m, 1 a, 2 b, 3 x, 4 y, 5 t, 6 sum */
    place(L_GCDSUM);
    emit(ENTER, 6);
    emit(CONST, 1); emit(SET, 1);
    place(L_G_A);
    emit(LOCAL, 1); emit(LOCAL, 0); emit(LE, 0); emit_to(JZ, L_G_DONE);
    emit(CONST, 1); emit(SET, 2);
    place(L_G_B);
    emit(LOCAL, 2); emit(LOCAL, 0); emit(LE, 0); emit_to(JZ, L_G_NEXT_A);
    emit(LOCAL, 1); emit(SET, 3); emit(LOCAL, 2); emit(SET, 4);
    place(L_G_EUCLID);
    emit(LOCAL, 4); emit(CONST, 0); emit(NE, 0); emit_to(JZ, L_G_DONE_E);
    emit(LOCAL, 3); emit(LOCAL, 4); emit(MOD, 0); emit(SET, 5);
    emit(LOCAL, 4); emit(SET, 3); emit(LOCAL, 5); emit(SET, 4); emit_to(JMP, L_G_EUCLID);
    place(L_G_DONE_E);
    emit(LOCAL, 6); emit(LOCAL, 3); emit(ADD, 0); emit(SET, 6);
    emit(LOCAL, 2); emit(CONST, 1); emit(ADD, 0); emit(SET, 2); emit_to(JMP, L_G_B);
    place(L_G_NEXT_A);
    emit(LOCAL, 1); emit(CONST, 1); emit(ADD, 0); emit(SET, 1); emit_to(JMP, L_G_A);
    place(L_G_DONE);
    emit(LOCAL, 6); emit(CONST, 1); emit(DIV, 0); emit(RET, 0);   /* DIV by 1: exercise the op */

    link_labels();
}

/* ---- the machine ---- */
#define STACK 4096
#define FRAMES 1024
struct frame { int ret_pc, base; };

static int64_t stack[STACK];
static struct frame frames[FRAMES];

static uint64_t run(int pc, uint64_t *executed, uint64_t *checksum) {
    int sp = 0, fp = 0, base = 0;
    uint64_t count = 0, sum = 0;
    for (;;) {
        const struct insn *in = &code[pc++];
        count++;
        switch ((enum op)in->op) {
        case CONST: stack[sp++] = in->arg; break;
        case LOCAL: stack[sp++] = stack[base + in->arg]; break;
        case SET: stack[base + in->arg] = stack[--sp]; break;
        case ENTER: for (int i = 0; i < in->arg; i++) stack[sp++] = 0; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case DIV: sp--; if (!stack[sp]) goto trap; stack[sp - 1] /= stack[sp]; break;
        case MOD: sp--; if (!stack[sp]) goto trap; stack[sp - 1] %= stack[sp]; break;
        case AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case SHR: sp--; stack[sp - 1] >>= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case LE: sp--; stack[sp - 1] = stack[sp - 1] <= stack[sp]; break;
        case GT: sp--; stack[sp - 1] = stack[sp - 1] > stack[sp]; break;
        case NE: sp--; stack[sp - 1] = stack[sp - 1] != stack[sp]; break;
        case JMP: pc = in->arg; break;
        case JZ: if (!stack[--sp]) pc = in->arg; break;
        case CALL:
            if (fp == FRAMES || sp + 64 > STACK) goto trap;
            frames[fp].ret_pc = pc; frames[fp++].base = base;
            base = sp - in->nargs;
            pc = in->arg;
            break;
        case RET: {
            int64_t v = stack[--sp];
            sp = base;
            stack[sp++] = v;
            pc = frames[--fp].ret_pc; base = frames[fp].base;
            break;
        }
        case PRINT:
            sum = sum * 1000003u + (uint64_t)stack[--sp];
            printf("  %lld\n", (long long)stack[sp]);
            break;
        case HALT: *executed = count; *checksum = sum; return 0;
        default: goto trap;
        }
    }
trap:
    printf("trap at pc %d (%s)\n", pc - 1, names[code[pc - 1].op]);
    exit(1);
}

int main(int argc, char **argv) {
    int64_t n = argc > 1 ? atoll(argv[1]) : 80000;
    if (n < 1 || n > 100000000) { fprintf(stderr, "interp: N out of range\n"); return 2; }
    assemble(n);
    uint64_t executed, checksum;
    printf("program: %d instructions; results:\n", ncode);
    run(label_at[L_MAIN], &executed, &checksum);
    printf("executed %llu instructions, checksum %016llx\n", (unsigned long long)executed,
           (unsigned long long)checksum);
    return 0;
}
