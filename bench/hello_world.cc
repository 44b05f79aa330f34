// Copyright 2026 The daemonkit Authors.
//
// The floor of the foreground benchmark: the smallest C++ program, started
// and ended. bench/run.sh builds it three ways: with g++'s defaults
// (libstdc++.so), with this workspace's toolchain (//bench:hello_world) and
// fully static (//bench:hello_world_static).

#include <iostream>

int main() {
  std::cout << "hello world\n";
  return 0;
}
