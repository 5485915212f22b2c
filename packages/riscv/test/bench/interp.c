/* A small bytecode interpreter (stack machine with a switch dispatch) running a counting loop with arithmetic. */
#include "bench.h"
enum { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, JNZ, HALT };
static const int prog[] = {
  PUSH, 30000 * SCALE, STORE, 0, /* n = 30000 * SCALE */
  PUSH, 0, STORE, 1,           /* acc = 0 */
  /* loop: */
  LOAD, 1, LOAD, 0, PUSH, 7, MUL, XOR, PUSH, 3, ADD, STORE, 1,  /* acc = (acc ^ n*7) + 3 */
  LOAD, 0, PUSH, 1, SUB, STORE, 0,                              /* n-- */
  LOAD, 0, JNZ, 8,
  HALT,
};
int main(void) {
  long stack[16], vars[2] = {0, 0};
  int sp = 0, pc = 0;
  for (;;) {
    switch (prog[pc++]) {
      case PUSH: stack[sp++] = prog[pc++]; break;
      case LOAD: stack[sp++] = vars[prog[pc++]]; break;
      case STORE: vars[prog[pc++]] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
      case JNZ: { int t = prog[pc++]; if (stack[--sp]) pc = t; break; }
      case HALT: report("interp", (u64)vars[1]); return 0;
    }
  }
}
