// Copyright 2026 The daemonkit Authors.
//
// A main() for fuzz targets that runs as an ordinary test: it calls
// LLVMFuzzerTestOneInput on hand-picked seeds, then on FUZZ_ITERATIONS
// (default 20,000) pseudo-random inputs from a fixed seed, biased toward the
// characters parsers care about. Same inputs on every run, so a failure
// reproduces; the coverage-guided search is libFuzzer's job (tools/fuzz.sh).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const char* const kSeeds[] = {
    "",
    "0",
    "1",
    "42\n",
    " 4194304 \n",
    "4194305",
    "-1",
    "+7",
    "0x10",
    "007",
    "999",
    "0777",
    "01000",
    "30s",
    "1m30s",
    "-5s",
    "inf",
    "1e308",
    "nan",
    "250ms",
    "@",
    "@x",
    "/",
    "/run/systemd/notify",
    "relative",
    "A,B",
    "A=B",
    " , ,",
    "PATH, HOME",
    "1000000",
    "18446744073709551616",
    "\n\n\n",
    "12 34",
};

// Characters that make parsers branch: digits, signs, units, separators.
constexpr char kAlphabet[] = "0123456789-+ .,:@/=\nsmhunxefiEa\t\x7f";

}  // namespace

int main() {
  int iterations = 20000;
  if (const char* text = std::getenv("FUZZ_ITERATIONS")) {
    iterations = std::atoi(text);
  }
  for (const char* seed : kSeeds) {
    const std::string input(seed);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
  }
  std::mt19937_64 random(20261125);
  std::string input;
  for (int i = 0; i < iterations; ++i) {
    input.assign(random() % 48, '\0');
    for (char& c : input) {
      // Mostly the interesting alphabet, sometimes any byte at all.
      c = random() % 8 == 0 ? static_cast<char>(random() % 256)
                            : kAlphabet[random() % (sizeof(kAlphabet) - 1)];
    }
    if (random() % 64 == 0) input.append(random() % 300, '9');  // long numbers
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
  }
  std::printf("fuzz: %zu passed, 0 failed\n",
              iterations + sizeof(kSeeds) / sizeof(kSeeds[0]));
  return 0;
}
