/* The floor of any dynamically linked program: a C "hello world". */
#include <stdio.h>

int main(void) {
  puts("hello world");
  return 0;
}
